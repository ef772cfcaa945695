import type { Reporter, RunnerTask, RunnerTestFile } from "vitest/node";

/** Ends the run with one plain `N passed, N failed, N skipped` line for CI logs. */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []) {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const visit = (task: RunnerTask) => {
      if (task.type === "suite") {
        task.tasks.forEach(visit);
        return;
      }
      const state = task.result?.state;
      if (state === "pass") counts.passed += 1;
      else if (state === "fail") counts.failed += 1;
      else counts.skipped += 1;
    };
    files.forEach(visit);
    // A file that failed to load has no tests but must still count as a failure.
    const brokenFiles = files.filter((file) => file.result?.state === "fail" && file.tasks.length === 0).length;
    counts.failed += brokenFiles + errors.length;
    console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  }
}
