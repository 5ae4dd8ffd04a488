/**
 * Telling people: a notice when a run fails or sets aside more records than a threshold
 * (the original pipeline's "alarm on any error, mail an SNS topic"), sent to a webhook
 * (Slack-compatible JSON) and optionally to an SNS topic; and an optional follow-up step
 * after a run in which every branch succeeded (Step Functions' "then run the next job").
 * These activities make no vendor request: they run on the workflow task queue, outside
 * the vendor's rate limit. Destinations are worker configuration, never workflow data
 * (a webhook URL is a secret).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ApplicationFailure } from '@temporalio/activity';
import ky, { HTTPError } from 'ky';
import { describeSummary, type SyncSummary } from '../shared/summary.js';
import type { FollowUpInput, NoticeOutcome, NotifyActivities, NotifyRunInput } from './types.js';

/** The contracts (./types.ts), for the modules and tests that build or call these activities. */
export type { FollowUpInput, NoticeOutcome, NotifyActivities, NotifyRunInput } from './types.js';

/** Where notices go. Everything is optional: with nothing set, the activities do nothing. */
export interface NotifyDeps {
  webhookUrl?: string;
  sns?: { client: SNSClient; topicArn: string };
  /** A successful run that set aside more than this many records is notified. */
  setAsideThreshold: number;
  /** POSTed the summary after a run in which every branch succeeded. */
  followUpUrl?: string;
  timeoutMs?: number;
}

/** Records set aside over all tables. */
function setAsideCount(s: SyncSummary): number {
  return s.counts.branches.setAside + s.counts.salespersons.setAside + s.counts.sales.setAside;
}

/** The notice's text, one line of headline and one of summary. */
function noticeText(input: NotifyRunInput): string {
  const run = `Sales sync ${input.kind ? `(${input.kind}) ` : ''}${input.workflowId}`;
  const headline =
    input.status === 'failed'
      ? `:rotating_light: ${run} FAILED: ${input.reason ?? 'see the run'}`
      : `:warning: ${run} set aside ${setAsideCount(input.summary)} records (see the quarantine table)`;
  return `${headline}\n${describeSummary(input.summary)}`;
}

/**
 * POSTs JSON to a webhook. A webhook URL is a secret (whoever has it can post to the
 * channel), and ky's errors carry the URL: a failure names the host only, so the URL never
 * reaches failure messages, histories, logs, summaries or notices.
 */
async function postJson(what: string, url: string, json: unknown, timeoutMs: number): Promise<void> {
  const host = new URL(url).host;
  try {
    await ky.post(url, { json, timeout: timeoutMs, retry: 0 });
  } catch (err) {
    const reason =
      err instanceof HTTPError
        ? `answered ${err.response.status}`
        : (err as Error).name === 'TimeoutError'
          ? `did not answer within ${timeoutMs} ms`
          : `could not be reached (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`;
    // A fresh failure without a cause: the cause's message and stack would carry the URL.
    throw ApplicationFailure.create({ type: 'NoticeFailed', message: `${what} at ${host} ${reason}` });
  }
}

/** Builds the notification activities around their destinations. */
export function createNotifyActivities(deps: NotifyDeps): NotifyActivities {
  const timeout = deps.timeoutMs ?? 10_000;
  const due = (input: NotifyRunInput) =>
    input.status === 'failed' || setAsideCount(input.summary) > deps.setAsideThreshold;
  return {
    /**
     * Posts the run's notice to the webhook (Slack-compatible JSON) when the run failed or
     * set aside more records than the threshold. A step of its own, retried on its own: a
     * failing SNS topic never makes the webhook post twice.
     */
    notifyWebhook: async (input: NotifyRunInput): Promise<NoticeOutcome> => {
      if (!deps.webhookUrl) return 'not configured';
      if (!due(input)) return 'not due';
      // Slack's incoming webhooks take {"text": ...}; the other fields are for machines.
      await postJson(
        'the notice webhook',
        deps.webhookUrl,
        {
          text: noticeText(input),
          status: input.status,
          workflowId: input.workflowId,
          ...(input.kind ? { kind: input.kind } : {}),
          summary: input.summary,
        },
        timeout,
      );
      return 'sent';
    },

    /** Publishes the run's notice to the SNS topic, under the same rule as the webhook. */
    notifySns: async (input: NotifyRunInput): Promise<NoticeOutcome> => {
      if (!deps.sns) return 'not configured';
      if (!due(input)) return 'not due';
      await deps.sns.client.send(
        new PublishCommand({
          TopicArn: deps.sns.topicArn,
          Subject:
            `Sales sync${input.kind ? ` (${input.kind})` : ''} ${input.status === 'failed' ? 'failed' : 'set records aside'}`.slice(
              0,
              100,
            ),
          Message: noticeText(input),
        }),
      );
      return 'sent';
    },

    /** The follow-up step after an all-succeeded run: POSTs the summary to FOLLOW_UP_WEBHOOK_URL when set. */
    followUp: async (input: FollowUpInput): Promise<boolean> => {
      if (!deps.followUpUrl) return false;
      await postJson(
        'the follow-up webhook',
        deps.followUpUrl,
        { workflowId: input.workflowId, ...(input.kind ? { kind: input.kind } : {}), summary: input.summary },
        timeout,
      );
      return true;
    },
  };
}
