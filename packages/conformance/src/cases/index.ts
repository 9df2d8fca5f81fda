import type { Case } from './case.ts';
import { churnCases } from './churn.ts';
import { deadLetterCases, redriveCases } from './dead-letters.ts';
import { deliveryCases } from './delivery.ts';
import { groupCases } from './groups.ts';
import { inspectCases } from './inspect.ts';
import { lifecycleCases } from './lifecycle.ts';
import { nameCases } from './names.ts';
import { orderingCases } from './ordering.ts';
import { settlementCases } from './settlement.ts';

/** Every case, in the order the matrix lists them. */
export const cases: readonly Case[] = [
  ...deliveryCases,
  ...nameCases,
  ...groupCases,
  ...settlementCases,
  ...deadLetterCases,
  ...orderingCases,
  ...lifecycleCases,
  ...churnCases,
  ...redriveCases,
  ...inspectCases,
];
