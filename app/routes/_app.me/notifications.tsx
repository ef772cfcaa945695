import { useFetcher, useRevalidator } from "@remix-run/react";
import { useEffect, useState } from "react";
import { Button, Card, FormError } from "~/components/ui";
import { failureOf } from "~/lib/form";
import type { PushSettings } from "~/models/push.server";
import { NOTIFICATION_EVENT_LABELS, NOTIFICATION_EVENTS } from "../../../domain/notifications";
import type { action } from "./route";

// Web push on this device: subscribe or unsubscribe, and which events to be told about
// (for all of the person's devices).

/** pushManager.subscribe waits on the browser's push service, which some browsers lack: it may never answer. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;

type DeviceState = "checking" | "unsupported" | "denied" | "off" | "on";

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
}

/** Whether this browser can be told, and is. */
async function deviceState(): Promise<DeviceState> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return currentSubscription().then(
    (subscription) => (subscription ? "on" : "off"),
    () => "off",
  );
}

async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await withTimeout(navigator.serviceWorker.ready, 5000);
  return registration.pushManager.getSubscription();
}

export function NotificationsSection({ push }: { push: PushSettings }) {
  const save = useFetcher<typeof action>();
  const events = useFetcher<typeof action>();
  const { revalidate } = useRevalidator();
  const [device, setDevice] = useState<DeviceState>("checking");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    void deviceState().then(setDevice);
  }, []);

  async function subscribe() {
    setBusy(true);
    setProblem(null);
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        setDevice(Notification.permission === "denied" ? "denied" : "off");
        return;
      }
      const registration = await withTimeout(navigator.serviceWorker.ready, 5000);
      const subscription = await withTimeout(
        registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: push.publicKey }),
        SUBSCRIBE_TIMEOUT_MS,
      );
      save.submit({ intent: "push-subscribe", subscription: JSON.stringify(subscription.toJSON()) }, { method: "post" });
      setDevice("on");
    } catch (error) {
      setProblem(
        (error as Error).message === "timeout"
          ? "This browser's push service did not answer, so it cannot receive notifications here (some browsers have none, " +
              "or it is blocked on this network). Try the installed app or another browser, or try again later."
          : `This browser refused to subscribe: ${(error as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  }

  async function unsubscribe() {
    setBusy(true);
    setProblem(null);
    try {
      const subscription = await currentSubscription();
      if (subscription) {
        save.submit({ intent: "push-unsubscribe", endpoint: subscription.endpoint }, { method: "post" });
        await subscription.unsubscribe();
      }
      setDevice("off");
      revalidate();
    } catch (error) {
      setProblem(`Could not unsubscribe: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  const failure = failureOf(save.data);
  return (
    <Card className="mt-4">
      <h2 className="mb-1 font-semibold">Notifications</h2>
      <p className="mb-3 text-sm text-stone-600" data-testid="push-devices">
        {device === "unsupported"
          ? "This browser cannot receive push notifications. On iPhone, add Cactus to the home screen first."
          : device === "denied"
            ? "Notifications are blocked for this site in the browser's settings; allow them there to be told here."
            : device === "on"
              ? "This device is told when something happens."
              : "Get told on this device when a render finishes or fails, or a worker goes offline."}
        {push.devices > 0 ? ` Devices subscribed: ${push.devices}.` : ""}
      </p>
      {device === "off" || device === "checking" ? (
        <Button type="button" className="w-full" onClick={subscribe} disabled={busy || device === "checking"}>
          {busy ? "Subscribing…" : "Turn on notifications"}
        </Button>
      ) : device === "on" ? (
        <Button type="button" variant="secondary" className="w-full" onClick={unsubscribe} disabled={busy}>
          Turn off on this device
        </Button>
      ) : null}
      <FormError>{problem ?? failure?.fieldErrors.push}</FormError>
      <events.Form method="post" onChange={(event) => events.submit(event.currentTarget)} className="mt-3">
        <input type="hidden" name="intent" value="push-events" />
        <fieldset>
          <legend className="mb-1 text-sm font-medium text-stone-700">Tell me when</legend>
          {NOTIFICATION_EVENTS.map((event) => (
            <label key={event} className="flex min-h-11 items-center gap-3 text-sm">
              <input
                type="checkbox"
                name="event"
                value={event}
                defaultChecked={!push.muted.includes(event)}
                className="h-5 w-5 accent-cactus-700"
              />
              {NOTIFICATION_EVENT_LABELS[event]}
            </label>
          ))}
        </fieldset>
      </events.Form>
    </Card>
  );
}
