import type { Sequelize, Transaction } from "sequelize";
import { select } from "./common";

// Web push's statements (decision 021): events read from their sources into
// push_deliveries under a cursor per source, and deliveries handed to the senders of any
// replica with SKIP LOCKED, so each event is read once and each push sent by one sender.

/** A row of a source past its cursor, for the person it concerns. */
export interface SourceRow {
  id: number;
  userId: number;
}

/**
 * Reads up to `limit` rows of `source` past its cursor with `read`, writes the deliveries
 * `deliver` makes of them, and moves the cursor past them — one transaction. Another
 * replica reading the same source meanwhile skips it (its cursor row is locked) and
 * gets nothing: it is read once. Returns how many rows were read.
 */
export async function collectSource<T extends SourceRow>(
  sequelize: Sequelize,
  source: string,
  read: (afterId: number, limit: number, transaction: Transaction) => Promise<T[]>,
  deliver: (rows: T[]) => { userId: number; event: string; message: object }[],
  limit = 200,
): Promise<number> {
  return sequelize.transaction(async (transaction) => {
    const [cursor] = await select<{ last_id: number }>(
      sequelize,
      `SELECT last_id FROM push_cursors WHERE source = $source FOR UPDATE SKIP LOCKED`,
      { source },
      transaction,
    );
    if (!cursor) return 0;
    const rows = await read(cursor.last_id, limit, transaction);
    if (rows.length === 0) return 0;
    const pushes = deliver(rows);
    if (pushes.length > 0) {
      // To every device of the person, unless they switched the event off.
      await select(
        sequelize,
        /* sql */ `
INSERT INTO push_deliveries (subscription_id, message)
SELECT s.id, p.message
  FROM jsonb_to_recordset($pushes::jsonb) AS p (user_id bigint, event text, message jsonb)
  JOIN push_subscriptions s ON s.user_id = p.user_id
 WHERE NOT EXISTS (SELECT 1 FROM push_preferences pref WHERE pref.user_id = p.user_id AND p.event = ANY (pref.muted))
RETURNING id`,
        { pushes: JSON.stringify(pushes.map(({ userId, event, message }) => ({ user_id: userId, event, message }))) },
        transaction,
      );
    }
    await select(
      sequelize,
      `UPDATE push_cursors SET last_id = $lastId WHERE source = $source RETURNING source`,
      { source, lastId: rows[rows.length - 1].id },
      transaction,
    );
    return rows.length;
  });
}

export interface DueDelivery {
  id: number;
  attempts: number;
  message: object;
  subscriptionId: number;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/**
 * Takes up to `limit` deliveries that are due, for this sender: each is put off by
 * `leaseSeconds` (so a sender that dies leaves it to another then) and its attempt counted.
 */
export async function takeDueDeliveries(sequelize: Sequelize, limit = 20, leaseSeconds = 60): Promise<DueDelivery[]> {
  return select<DueDelivery>(
    sequelize,
    /* sql */ `
UPDATE push_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $leaseSeconds)
  FROM push_subscriptions s
 WHERE d.id IN (SELECT id FROM push_deliveries WHERE next_attempt_at <= now() ORDER BY id LIMIT $limit FOR UPDATE SKIP LOCKED)
   AND s.id = d.subscription_id
RETURNING d.id, d.attempts, d.message, s.id AS "subscriptionId", s.endpoint, s.p256dh, s.auth`,
    { limit, leaseSeconds },
  );
}

export async function deliverySent(sequelize: Sequelize, delivery: DueDelivery): Promise<void> {
  await select(sequelize, `DELETE FROM push_deliveries WHERE id = $id RETURNING id`, { id: delivery.id });
  await select(sequelize, `UPDATE push_subscriptions SET last_sent_at = now() WHERE id = $id RETURNING id`, {
    id: delivery.subscriptionId,
  });
}

/** The push service answered that the subscription is gone (404/410): it goes, with its deliveries. */
export async function subscriptionGone(sequelize: Sequelize, delivery: DueDelivery): Promise<void> {
  await select(sequelize, `DELETE FROM push_subscriptions WHERE id = $id RETURNING id`, { id: delivery.subscriptionId });
}

/** Tries again after `retryInSeconds`, or with null gives up on it. */
export async function deliveryFailed(sequelize: Sequelize, delivery: DueDelivery, error: string, retryInSeconds: number | null) {
  if (retryInSeconds === null) {
    await select(sequelize, `DELETE FROM push_deliveries WHERE id = $id RETURNING id`, { id: delivery.id });
    return;
  }
  await select(
    sequelize,
    `UPDATE push_deliveries SET next_attempt_at = now() + make_interval(secs => $retryInSeconds), last_error = $error
      WHERE id = $id RETURNING id`,
    { id: delivery.id, retryInSeconds, error },
  );
}
