/**
 * The pure helpers lower layers use instead of importing higher ones: the one loopback test
 * (configuration, the vendor client and the AWS clients share it) and the workflow type names
 * (metrics name the parent's type without importing the workflow).
 */
import assert from 'node:assert/strict';
import { isInsecureVendorUrl, isLoopbackUrl } from '../src/shared/loopback.js';
import { WORKFLOW_TYPES } from '../src/shared/workflow-types.js';
import * as workflows from '../src/workflows/index.js';

describe('shared helpers', () => {
  it('isLoopbackUrl: 127.0.0.0/8, localhost and [::1] with any scheme and port; nothing else', () => {
    for (const url of [
      'http://127.0.0.1:8000',
      'https://127.3.2.1/x',
      'http://localhost',
      'http://LOCALHOST:9/',
      'http://[::1]:4566',
    ])
      assert.equal(isLoopbackUrl(url), true, url);
    for (const url of [
      'http://127.0.0.1.example.com',
      'http://localhost.example.com:8000',
      'http://10.0.0.1',
      'https://dynamodb.eu-west-1.amazonaws.com',
      'http://[::2]',
      'localhost:8000',
      'not a url',
      '',
    ])
      assert.equal(isLoopbackUrl(url), false, url);
  });

  it('isInsecureVendorUrl: plain http off this machine only', () => {
    assert.equal(isInsecureVendorUrl('http://vendor.example.com/api'), true);
    assert.equal(isInsecureVendorUrl('http://10.1.2.3:8080'), true);
    assert.equal(isInsecureVendorUrl('https://vendor.example.com/api'), false);
    assert.equal(isInsecureVendorUrl('http://127.0.0.1:9000'), false);
    assert.equal(isInsecureVendorUrl('http://[::1]:9000'), false);
  });

  it("WORKFLOW_TYPES names each workflow type as Temporal does: its function's name", () => {
    assert.deepEqual(WORKFLOW_TYPES, {
      salesSync: workflows.salesSyncWorkflow.name,
      branchSync: workflows.branchSyncWorkflow.name,
      salespersonSync: workflows.salespersonSyncWorkflow.name,
      changeFeed: workflows.changeFeedWorkflow.name,
    });
  });
});
