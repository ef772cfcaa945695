import { useRef, useState, useSyncExternalStore } from "react";
import { Button } from "./ui";

/** Whether the browser can share does not change while the page is open. */
const unchanging = () => () => undefined;

/**
 * A read-only value (a token, a link, a command) with a button that copies it. A long
 * command wraps onto several lines (`multiline`) so a phone shows all of it; a link can
 * also go through the phone's share sheet (`share`), where the browser has one.
 */
export function CopyField({
  label,
  value,
  multiline = false,
  share,
}: {
  label: string;
  value: string;
  multiline?: boolean;
  /** The share sheet's title for the link in `value`. */
  share?: { title: string };
}) {
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState(false);
  // Known only in the browser: the server's page has no Share button.
  const canShare = useSyncExternalStore(
    unchanging,
    () => share !== undefined && typeof navigator.share === "function",
    () => false,
  );

  async function copy() {
    // The Clipboard API exists only on https (and localhost); elsewhere the old way.
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      field.current?.select();
      document.execCommand("copy");
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2000);
  }

  async function shareIt() {
    try {
      await navigator.share({ title: share!.title, url: value });
    } catch {
      // Dismissed, or the share target failed: the link is still here to copy.
    }
  }

  const id = `copy-${label}`;
  const style = "min-h-11 min-w-0 flex-1 rounded-lg border border-stone-300 bg-stone-50 px-3 py-2 font-mono text-sm";
  return (
    <div className="flex flex-col gap-1">
      <label className="text-sm font-medium text-stone-700" htmlFor={id}>
        {label}
      </label>
      <div className={multiline ? "flex flex-col gap-2" : "flex gap-2"}>
        {multiline ? (
          <textarea
            ref={field}
            id={id}
            readOnly
            value={value}
            rows={3}
            spellCheck={false}
            onFocus={(event) => event.currentTarget.select()}
            className={`${style} field-sizing-content resize-none break-all`}
          />
        ) : (
          <input ref={field} id={id} readOnly value={value} onFocus={(event) => event.currentTarget.select()} className={style} />
        )}
        <div className="flex gap-2">
          {canShare ? (
            <Button type="button" variant="secondary" onClick={shareIt} className={multiline ? "flex-1" : ""}>
              Share
            </Button>
          ) : null}
          <Button type="button" variant="secondary" onClick={copy} aria-live="polite" className={multiline ? "flex-1" : ""}>
            {copied ? "Copied" : "Copy"}
          </Button>
        </div>
      </div>
    </div>
  );
}
