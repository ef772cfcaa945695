import { useRevalidator } from "@remix-run/react";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { ApiError } from "../../contract";
import { formatBytes } from "~/lib/format";
import { Button, Card, Field, FormError } from "./ui";

type Upload =
  | { phase: "idle" }
  | { phase: "sending"; percent: number }
  | { phase: "checking" }
  | { phase: "done"; message: string }
  | { phase: "failed"; message: string };

/**
 * Uploads a .blend or .zip to the API from the page. XMLHttpRequest rather than fetch,
 * because only it reports upload progress — on a phone, a big file takes a while. The
 * body is the file itself, which the browser streams from disk.
 */
export function ArchiveUpload({ projectId }: { projectId: number }) {
  const revalidator = useRevalidator();
  const form = useRef<HTMLFormElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const request = useRef<XMLHttpRequest | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [upload, setUpload] = useState<Upload>({ phase: "idle" });
  const busy = upload.phase === "sending" || upload.phase === "checking";
  const isZip = file?.name.toLowerCase().endsWith(".zip") ?? false;

  useEffect(() => {
    // A file chosen before the page's script ran is already in the input.
    setFile(input.current?.files?.[0] ?? null);
    // Leaving the page ends an upload still on its way.
    return () => request.current?.abort();
  }, []);

  function start(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!file) return;
    const query = new URLSearchParams({ filename: file.name });
    const main = new FormData(event.currentTarget).get("main");
    if (isZip && typeof main === "string" && main.trim() !== "") query.set("main", main.trim());

    const xhr = new XMLHttpRequest();
    request.current = xhr;
    xhr.open("POST", `/api/v1/projects/${projectId}/archives?${query}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (progress) => {
      if (progress.lengthComputable) setUpload({ phase: "sending", percent: Math.floor((progress.loaded / progress.total) * 100) });
    };
    // Every byte is out; the server now checks the file before it answers.
    xhr.upload.onload = () => setUpload({ phase: "checking" });
    xhr.onload = () => {
      request.current = null;
      if (xhr.status >= 200 && xhr.status < 300) {
        const deduplicated = xhr.status === 200;
        setUpload({
          phase: "done",
          message: deduplicated ? `${file.name} was already in this project.` : `Uploaded ${file.name}.`,
        });
        setFile(null);
        form.current?.reset();
        revalidator.revalidate();
      } else {
        setUpload({ phase: "failed", message: errorMessage(xhr) });
      }
    };
    xhr.onerror = () => {
      request.current = null;
      setUpload({ phase: "failed", message: "The connection broke off during the upload; check your network and try again." });
    };
    xhr.onabort = () => {
      request.current = null;
      setUpload({ phase: "failed", message: "Upload cancelled; nothing was stored." });
    };
    setUpload({ phase: "sending", percent: 0 });
    xhr.send(file);
  }

  return (
    <Card>
      <h2 className="mb-3 font-semibold">Upload a .blend or .zip</h2>
      <form ref={form} onSubmit={start} className="flex flex-col gap-3">
        {/* .blend and .zip; octet-stream too, or phones that know no type for .blend grey it out. */}
        <input
          accept=".blend,.zip,application/zip,application/x-blender,application/octet-stream"
          ref={input}
          type="file"
          name="file"
          aria-label="Archive file"
          required
          disabled={busy}
          onChange={(event) => {
            setFile(event.currentTarget.files?.[0] ?? null);
            setUpload({ phase: "idle" });
          }}
          className="block w-full min-w-0 text-sm text-stone-700 file:mr-3 file:min-h-11 file:rounded-lg file:border-0 file:bg-cactus-100 file:px-4 file:py-2 file:font-semibold file:text-cactus-800 hover:file:bg-cactus-200"
        />
        {file ? <p className="text-sm text-stone-500">{formatBytes(file.size)}</p> : null}
        {isZip ? (
          <Field
            label="Main .blend in the zip"
            name="main"
            placeholder="scenes/shot010.blend"
            autoCapitalize="none"
            spellCheck={false}
            hint="Only needed when the zip holds several .blend files."
            disabled={busy}
          />
        ) : null}
        <UploadStatus upload={upload} />
        <div className="flex gap-2">
          <Button disabled={!file || busy} className="flex-1">
            {busy ? "Uploading…" : "Upload"}
          </Button>
          {busy ? (
            <Button type="button" variant="secondary" onClick={() => request.current?.abort()}>
              Cancel
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}

function UploadStatus({ upload }: { upload: Upload }) {
  if (upload.phase === "idle") return null;
  if (upload.phase === "failed") return <FormError>{upload.message}</FormError>;
  const percent = upload.phase === "sending" ? upload.percent : 100;
  const label =
    upload.phase === "sending" ? `${percent}%` : upload.phase === "checking" ? "100% · checking the file…" : `100% · ${upload.message}`;
  return (
    <div className="flex flex-col gap-1">
      <div
        role="progressbar"
        aria-label="Upload progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-2 overflow-hidden rounded-full bg-stone-200"
      >
        <div className="h-full rounded-full bg-cactus-600 transition-[width] duration-150" style={{ width: `${percent}%` }} />
      </div>
      <p className="text-sm text-stone-600" aria-live="polite">
        {label}
      </p>
    </div>
  );
}

/** The API's own message (it says what to do next), or a plain account of the status. */
function errorMessage(xhr: XMLHttpRequest): string {
  if (xhr.status === 401) return "You are signed out; sign in again, then upload.";
  let message: unknown;
  try {
    // Only the type from contract/: its zod schemas would weigh down the page's script.
    message = (JSON.parse(xhr.responseText) as Partial<ApiError>).error?.message;
  } catch {
    // not the API's JSON (a proxy's error page, say)
  }
  return typeof message === "string" ? message : `The upload failed (HTTP ${xhr.status}); try again.`;
}
