import { createTask, validateDetailed } from "node-cron";
import { ConfigError } from "./config";

// `--schedule "<cron>"` names the minutes the agent is awake: "* 22-23,0-6 * * *" is
// nights, "* * * * 1-5" weekdays. node-cron parses it and matches moments against it; the
// agent never lets it start a timer.

export interface AwakeSchedule {
  readonly expression: string;
  isAwake(at: Date): boolean;
  /** The next minute the agent is awake, or null when none comes within a week. */
  nextAwake(from: Date): Date | null;
}

const MINUTE = 60_000;
const LOOK_AHEAD_MINUTES = 8 * 24 * 60;

export function parseSchedule(expression: string): AwakeSchedule {
  const trimmed = expression.trim();
  const example = 'e.g. "* 22-23,0-6 * * *" for nights';
  if (trimmed.split(/\s+/).length !== 5) {
    throw new ConfigError(
      `The schedule "${expression}" needs the 5 fields of cron (minute hour day month weekday) naming the minutes the agent is awake, ${example}.`,
    );
  }
  const validation = validateDetailed(trimmed);
  if (!validation.valid) {
    const why = validation.errors.map((error) => `${error.field}: ${error.message}`).join("; ");
    throw new ConfigError(`The schedule "${expression}" is not a cron expression (${why}); ${example}.`);
  }
  const matcher = createTask(trimmed, () => undefined);
  const isAwake = (at: Date) => matcher.match(startOfMinute(at));
  return {
    expression: trimmed,
    isAwake,
    nextAwake(from) {
      let minute = startOfMinute(from).getTime() + MINUTE;
      for (let step = 0; step < LOOK_AHEAD_MINUTES; step += 1, minute += MINUTE) {
        if (matcher.match(new Date(minute))) return new Date(minute);
      }
      return null;
    },
  };
}

function startOfMinute(at: Date): Date {
  return new Date(Math.floor(at.getTime() / MINUTE) * MINUTE);
}
