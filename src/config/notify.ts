/** Where run notices and the follow-up step go: a webhook, an SNS topic, a follow-up webhook. */
import { ConfigError } from '../shared/errors.js';
import { type Env, int, url } from './env.js';

/** Where run notices and the follow-up step go (all optional). */
export interface NotifyConfig {
  webhookUrl?: string;
  snsTopicArn?: string;
  setAsideThreshold: number;
  followUpUrl?: string;
}

/** Notification settings: NOTIFY_WEBHOOK_URL, NOTIFY_SNS_TOPIC_ARN, NOTIFY_SET_ASIDE_THRESHOLD, FOLLOW_UP_WEBHOOK_URL. */
export function loadNotifyConfig(e: Env = process.env): NotifyConfig {
  const arn = e.NOTIFY_SNS_TOPIC_ARN?.trim() || undefined;
  if (arn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(arn)) {
    throw new ConfigError(
      `NOTIFY_SNS_TOPIC_ARN=${JSON.stringify(arn)} is not valid: expected a topic ARN such as arn:aws:sns:us-east-1:123456789012:sales-sync-alerts.`,
    );
  }
  return {
    webhookUrl: e.NOTIFY_WEBHOOK_URL?.trim() ? url(e, 'NOTIFY_WEBHOOK_URL') : undefined,
    snsTopicArn: arn,
    setAsideThreshold: int(e, 'NOTIFY_SET_ASIDE_THRESHOLD', 10, 0, Number.MAX_SAFE_INTEGER),
    followUpUrl: e.FOLLOW_UP_WEBHOOK_URL?.trim() ? url(e, 'FOLLOW_UP_WEBHOOK_URL') : undefined,
  };
}
