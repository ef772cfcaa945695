import { useRef, useState } from "react";
import { Button } from "./ui";

/** A read-only value (a token, a link) with a button that copies it. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);

  async function copy() {
    // The Clipboard API exists only on https (and localhost); elsewhere the old way.
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      input.current?.select();
      document.execCommand("copy");
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2000);
  }

  return (
    <div className="flex flex-col gap-1">
      <label className="text-sm font-medium text-stone-700" htmlFor={`copy-${label}`}>
        {label}
      </label>
      <div className="flex gap-2">
        <input
          ref={input}
          id={`copy-${label}`}
          readOnly
          value={value}
          onFocus={(event) => event.currentTarget.select()}
          className="min-h-11 min-w-0 flex-1 rounded-lg border border-stone-300 bg-stone-50 px-3 py-2 font-mono text-sm"
        />
        <Button type="button" variant="secondary" onClick={copy} aria-live="polite">
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
    </div>
  );
}
