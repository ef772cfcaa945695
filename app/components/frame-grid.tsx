import { Link } from "@remix-run/react";
import { useEffect, useRef, useState } from "react";
import type { FrameDto, OutputFormat } from "../../contract";
import type { FramePage } from "../../domain/frames";
import { formatBytes } from "~/lib/format";
import { formatDuration } from "./time";

// A page of a render's frames as tiles: a thumbnail for each frame done (tap: the image
// full size, to look at or download), a placeholder with the frame number and its status
// in words for the others. A render of 10 000 frames is paged: the page loads and follows
// only its own frames.

const PLACEHOLDER: Record<Exclude<FrameDto["status"], "done">, string> = {
  queued: "bg-stone-100 text-stone-600",
  rendering: "bg-amber-100 text-amber-900 animate-pulse",
  failed: "bg-red-100 text-red-800",
  cancelled: "bg-stone-50 text-stone-500 line-through",
};

export function FrameGrid({ renderId, frames, format, page }: { renderId: number; frames: FrameDto[]; format: OutputFormat; page: FramePage }) {
  const [open, setOpen] = useState<FrameDto | null>(null);
  // Tiles take the frames' own shape once one is rendered.
  const sized = frames.find((frame) => frame.width && frame.height);
  const aspectRatio = sized ? `${sized.width} / ${sized.height}` : "4 / 3";
  return (
    <>
      {page.pages > 1 ? <Pager renderId={renderId} page={page} /> : null}
      <ul aria-label="Frames" className="grid grid-cols-4 gap-1.5 sm:grid-cols-6">
        {frames.map((frame) => (
          <li key={frame.frame} style={{ aspectRatio }} className="min-w-0">
            <FrameTile renderId={renderId} frame={frame} format={format} onOpen={() => setOpen(frame)} />
          </li>
        ))}
      </ul>
      {page.pages > 1 ? <Pager renderId={renderId} page={page} /> : null}
      {open ? <FrameViewer renderId={renderId} frame={open} format={format} onClose={() => setOpen(null)} /> : null}
    </>
  );
}

function Pager({ renderId, page }: { renderId: number; page: FramePage }) {
  const link = (to: number, label: string, text: string) => (
    <Link
      to={`/renders/${renderId}?page=${to}`}
      preventScrollReset
      aria-label={label}
      className="inline-flex min-h-11 min-w-11 items-center justify-center rounded-lg border border-stone-300 bg-white px-3 text-sm font-semibold text-stone-800 hover:bg-stone-100"
    >
      {text}
    </Link>
  );
  return (
    <nav aria-label="Pages of frames" className="my-2 flex items-center justify-between gap-2">
      {page.page > 1 ? link(page.page - 1, "Previous frames", "← Previous") : <span className="min-w-11" />}
      <span className="text-sm text-stone-600">
        Frames {page.frames.start.toLocaleString("en")}–{page.frames.end.toLocaleString("en")} · page {page.page} of {page.pages}
      </span>
      {page.page < page.pages ? link(page.page + 1, "Next frames", "Next →") : <span className="min-w-11" />}
    </nav>
  );
}

function FrameTile({ renderId, frame, format, onOpen }: { renderId: number; frame: FrameDto; format: OutputFormat; onOpen: () => void }) {
  const tile = "flex h-full w-full items-center justify-center overflow-hidden rounded-md text-xs font-semibold";
  if (frame.status !== "done") {
    return (
      <div role="img" aria-label={`Frame ${frame.frame}: ${frame.status}`} title={frameTitle(frame)} className={`${tile} ${PLACEHOLDER[frame.status]} flex-col`}>
        <span>{frame.frame}</span>
        <span className="text-[10px] font-normal">{frame.status}</span>
      </div>
    );
  }
  const image = `/api/v1/renders/${renderId}/frames/${frame.frame}`;
  return (
    <a
      href={image}
      onClick={(event) => {
        // With the page running, the frame opens over it; without, the link still works.
        event.preventDefault();
        onOpen();
      }}
      aria-label={`Frame ${frame.frame}: open ${frame.filename}`}
      title={frameTitle(frame)}
      className={`${tile} relative bg-stone-800 text-white focus:ring-2 focus:ring-cactus-500 focus:outline-none`}
    >
      {/* The server makes no thumbnail of an OpenEXR frame: its name stands in. */}
      {format === "OPEN_EXR" ? (
        <span className="px-1 text-center break-all">{frame.frame} EXR</span>
      ) : (
        <img src={`${image}/thumbnail`} alt="" loading="lazy" decoding="async" className="h-full w-full object-cover" />
      )}
      <span className="absolute right-0.5 bottom-0.5 rounded bg-black/60 px-1 text-[10px] leading-4 text-neutral-50">{frame.frame}</span>
    </a>
  );
}

/** The frame full size over the page, with its facts and a download; Escape or Close returns. */
function FrameViewer({ renderId, frame, format, onClose }: { renderId: number; frame: FrameDto; format: OutputFormat; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const image = `/api/v1/renders/${renderId}/frames/${frame.frame}`;
  const facts = [
    frame.width && frame.height ? `${frame.width}×${frame.height}` : null,
    frame.bytes !== null ? formatBytes(frame.bytes) : null,
    frame.workerName ? `by ${frame.workerName}` : null,
    frame.renderTimeMs !== null ? `in ${formatDuration(frame.renderTimeMs)}` : null,
  ].filter(Boolean);
  return (
    <dialog
      ref={dialog}
      aria-label={`Frame ${frame.frame}`}
      onClose={onClose}
      className="m-auto w-[min(100vw-1rem,64rem)] max-w-none rounded-xl bg-white p-3 text-stone-900 backdrop:bg-black/70"
    >
      <div className="mb-2 flex items-center justify-between gap-2">
        <h2 className="font-semibold">Frame {frame.frame}</h2>
        <button
          type="button"
          onClick={() => dialog.current?.close()}
          className="inline-flex min-h-11 min-w-11 items-center justify-center rounded-lg border border-stone-300 px-3 text-sm font-semibold"
        >
          Close
        </button>
      </div>
      {format === "OPEN_EXR" ? (
        <p className="rounded-lg bg-stone-100 p-6 text-center text-sm text-stone-600">Browsers cannot show OpenEXR images; download it to look at it.</p>
      ) : (
        <img src={image} alt={`Frame ${frame.frame} of render ${renderId}`} className="max-h-[70dvh] w-full rounded-md bg-stone-800 object-contain" />
      )}
      <p className="mt-2 text-sm text-stone-600">{facts.join(" · ")}</p>
      <a
        href={image}
        download={frame.filename}
        className="mt-2 inline-flex min-h-11 w-full items-center justify-center rounded-lg bg-cactus-700 px-4 text-sm font-semibold text-white hover:bg-cactus-800"
      >
        Download {frame.filename}
      </a>
    </dialog>
  );
}

function frameTitle(frame: FrameDto): string {
  const parts = [`Frame ${frame.frame}`, frame.status];
  if (frame.workerName) parts.push(`by ${frame.workerName}`);
  if (frame.renderTimeMs !== null) parts.push(`${(frame.renderTimeMs / 1000).toFixed(1)} s`);
  return parts.join(" · ");
}
