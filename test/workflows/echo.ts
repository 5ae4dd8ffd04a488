/**
 * A workflow that returns its input after one activity call: its history holds the input,
 * the activity's argument and result, and the workflow result, all as payloads.
 */
import { proxyActivities } from '@temporalio/workflow';

export interface EchoInput {
  sale: { id: string; customer: string; amount: number };
}

export interface EchoOutput extends EchoInput {
  receipt: string;
}

/** Implemented in the test: returns a line naming the sale's customer. */
export interface EchoActivities {
  receipt(sale: EchoInput['sale']): Promise<string>;
}

const { receipt } = proxyActivities<EchoActivities>({ startToCloseTimeout: '10 seconds' });

export async function echo(input: EchoInput): Promise<EchoOutput> {
  return { ...input, receipt: await receipt(input.sale) };
}
