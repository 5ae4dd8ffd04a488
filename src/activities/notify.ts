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
import ky from 'ky';
import { describeSummary, type SyncSummary } from '../shared/summary.js';

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

export interface NotifyRunInput {
  workflowId: string;
  status: 'failed' | 'succeeded';
  /** Why it failed, for a failed run. */
  reason?: string;
  summary: SyncSummary;
}

export interface NotifyRunOutput {
  /** Destinations that received the notice; empty when the run did not call for one. */
  sentTo: string[];
}

export interface FollowUpInput {
  workflowId: string;
  summary: SyncSummary;
}

/** Records set aside over all tables. */
export function setAsideCount(s: SyncSummary): number {
  return s.counts.branches.setAside + s.counts.salespersons.setAside + s.counts.sales.setAside;
}

/** The notice's text, one line of headline and one of summary. */
export function noticeText(input: NotifyRunInput): string {
  const headline =
    input.status === 'failed'
      ? `:rotating_light: Sales sync ${input.workflowId} FAILED: ${input.reason ?? 'see the run'}`
      : `:warning: Sales sync ${input.workflowId} set aside ${setAsideCount(input.summary)} records (see the quarantine table)`;
  return `${headline}\n${describeSummary(input.summary)}`;
}

/** Builds the notification activities around their destinations. */
export function createNotifyActivities(deps: NotifyDeps) {
  const timeout = deps.timeoutMs ?? 10_000;
  return {
    /** Sends a notice when the run failed or set aside more records than the threshold; otherwise nothing. */
    notifyRun: async (input: NotifyRunInput): Promise<NotifyRunOutput> => {
      const due = input.status === 'failed' || setAsideCount(input.summary) > deps.setAsideThreshold;
      if (!due) return { sentTo: [] };
      const text = noticeText(input);
      const sentTo: string[] = [];
      if (deps.webhookUrl) {
        // Slack's incoming webhooks take {"text": ...}; the other fields are for machines.
        await ky.post(deps.webhookUrl, {
          json: { text, status: input.status, workflowId: input.workflowId, summary: input.summary },
          timeout,
          retry: 0,
        });
        sentTo.push('webhook');
      }
      if (deps.sns) {
        await deps.sns.client.send(
          new PublishCommand({
            TopicArn: deps.sns.topicArn,
            Subject: `Sales sync ${input.status === 'failed' ? 'failed' : 'set records aside'}`.slice(0, 100),
            Message: text,
          }),
        );
        sentTo.push('sns');
      }
      return { sentTo };
    },

    /** The follow-up step after an all-succeeded run: POSTs the summary to FOLLOW_UP_WEBHOOK_URL when set. */
    followUp: async (input: FollowUpInput): Promise<boolean> => {
      if (!deps.followUpUrl) return false;
      await ky.post(deps.followUpUrl, {
        json: { workflowId: input.workflowId, summary: input.summary },
        timeout,
        retry: 0,
      });
      return true;
    },
  };
}

/** The notification activities' type, for `proxyActivities` in workflows (type-only import). */
export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
