/**
 * The tier that serves `remainingMs`: the largest not above it, so a delay is never cut short by
 * rounding; what is left after it is served by another hop. Below the smallest tier, that tier.
 */
export function tierFor(remainingMs: number, tiers: readonly number[]): number {
  let chosen = tiers[0]!;
  for (const tier of tiers) {
    if (tier <= remainingMs) chosen = tier;
    else break;
  }
  return chosen;
}
