import { isRenderRunnable, type RenderStatus } from "./render-lifecycle";

// Who may take which task (docs/design.md §5, decision 025), as a table of cases: worker
// W (owner O) and a task of render R (owner P). db/sql/eligibility.ts writes the rule
// once in SQL, for the claim and the waiting notice; tests/db/eligibility.test.ts builds
// each case below in Postgres and checks the SQL condition and the claim decide as this
// does. Whether R's escrow covers a task is a rule of its own (domain/ledger.ts).

export interface EligibilityFacts {
  status: RenderStatus;
  /** W is P's own. */
  own: boolean;
  needsDenoiser: boolean;
  hasDenoiser: boolean;
  /** W's agent said its Blender renders R's engine (or said nothing of engines). */
  hasEngine: boolean;
  /** Tasks of R that failed on W. */
  failures: number;
  /** P's switch for W on R; null while P never touched it. */
  switched: boolean | null;
  /** P chose "only workers I enable". */
  onlyEnabledWorkers: boolean;
  /** R was confirmed against its quote with an escrow (it did not skip sampling). */
  confirmed: boolean;
  /** Whether W's agent runs Blender sandboxed (its hello); null before it said. */
  sandbox: "bwrap" | "off" | null;
  /** O lets W render other people's files without the sandbox. */
  othersUnsandboxed: boolean;
  /** W has a speed, so each of its frames' WU (what it is paid) is known. */
  benchmarked: boolean;
  /** O's answer to R. */
  answer: "accepted" | "declined" | null;
}

/** Another person's sandboxed, benchmarked worker whose owner accepted a confirmed, queued render. */
export const BASE_FACTS: EligibilityFacts = {
  status: "queued",
  own: false,
  needsDenoiser: false,
  hasDenoiser: false,
  hasEngine: true,
  failures: 0,
  switched: null,
  onlyEnabledWorkers: false,
  confirmed: true,
  sandbox: "bwrap",
  othersUnsandboxed: false,
  benchmarked: true,
  answer: "accepted",
};

/** W may take R's tasks now (its being enabled, and the escrow, are the caller's). */
export function mayTakeRender(facts: EligibilityFacts, blocklistAfter: number): boolean {
  if (!isRenderRunnable(facts.status)) return false;
  if (facts.needsDenoiser && !facts.hasDenoiser) return false;
  if (!facts.hasEngine) return false;
  if (facts.failures >= blocklistAfter) return false;
  if (facts.own) return facts.switched ?? true;
  const mayRenderOthers = (facts.sandbox === "bwrap" || facts.othersUnsandboxed) && facts.benchmarked;
  return (
    (facts.status === "queued" || facts.status === "rendering") &&
    facts.confirmed &&
    mayRenderOthers &&
    facts.answer === "accepted" &&
    (facts.switched ?? !facts.onlyEnabledWorkers)
  );
}

export interface EligibilityCase {
  case: string;
  facts: Partial<EligibilityFacts>;
  may: boolean;
}

/** The cases, each against BASE_FACTS; with FAILURES_TO_BLOCKLIST = 3. */
export const ELIGIBILITY_CASES: readonly EligibilityCase[] = [
  // The owner's own workers.
  { case: "own worker, queued", facts: { own: true }, may: true },
  { case: "own worker, estimating: the sample frames", facts: { own: true, status: "estimating", confirmed: false }, may: true },
  { case: "own worker, rendering", facts: { own: true, status: "rendering" }, may: true },
  { case: "own worker, a render that skipped sampling (no escrow)", facts: { own: true, confirmed: false }, may: true },
  { case: "own worker without the sandbox: own files", facts: { own: true, sandbox: "off" }, may: true },
  { case: "own worker not benchmarked", facts: { own: true, benchmarked: false }, may: true },
  { case: "own worker, quoted: waits for its owner", facts: { own: true, status: "quoted" }, may: false },
  { case: "own worker, paused", facts: { own: true, status: "paused" }, may: false },
  { case: "own worker, needs credits", facts: { own: true, status: "needs-credits" }, may: false },
  { case: "own worker, done", facts: { own: true, status: "done" }, may: false },
  { case: "own worker switched off", facts: { own: true, switched: false }, may: false },
  { case: "own worker, only workers I enable, never switched: on", facts: { own: true, onlyEnabledWorkers: true }, may: true },
  { case: "own worker without the denoiser a denoising scene needs", facts: { own: true, needsDenoiser: true }, may: false },
  { case: "own worker with the denoiser it needs", facts: { own: true, needsDenoiser: true, hasDenoiser: true }, may: true },
  { case: "own worker whose Blender lacks the scene's engine", facts: { own: true, hasEngine: false }, may: false },
  { case: "own worker that failed it twice", facts: { own: true, failures: 2 }, may: true },
  { case: "own worker that failed it 3 times: blocklisted", facts: { own: true, failures: 3 }, may: false },
  // Other people's workers.
  { case: "another's, accepted, sandboxed, confirmed", facts: {}, may: true },
  { case: "another's, rendering", facts: { status: "rendering" }, may: true },
  { case: "another's, estimating: sample frames are the owner's", facts: { status: "estimating" }, may: false },
  { case: "another's, a render that skipped sampling: no escrow", facts: { confirmed: false }, may: false },
  { case: "another's, not answered", facts: { answer: null }, may: false },
  { case: "another's, declined", facts: { answer: "declined" }, may: false },
  { case: "another's without the sandbox", facts: { sandbox: "off" }, may: false },
  { case: "another's without the sandbox, its owner chose so", facts: { sandbox: "off", othersUnsandboxed: true }, may: true },
  { case: "another's whose agent has not said whether it is sandboxed", facts: { sandbox: null }, may: false },
  { case: "another's not benchmarked: its frames' WU unknown", facts: { benchmarked: false }, may: false },
  { case: "another's switched off by the render's owner", facts: { switched: false }, may: false },
  { case: "another's, only workers I enable, never switched", facts: { onlyEnabledWorkers: true }, may: false },
  { case: "another's, only workers I enable, switched on", facts: { onlyEnabledWorkers: true, switched: true }, may: true },
  { case: "another's, needs credits", facts: { status: "needs-credits" }, may: false },
  { case: "another's, paused", facts: { status: "paused" }, may: false },
  { case: "another's without the denoiser", facts: { needsDenoiser: true }, may: false },
  { case: "another's whose Blender lacks the scene's engine", facts: { hasEngine: false }, may: false },
  { case: "another's that failed it 3 times", facts: { failures: 3 }, may: false },
];
