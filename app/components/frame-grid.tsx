import { useState } from "react";
import type { FrameDto, OutputFormat } from "../../contract";
import { Button } from "./ui";

// A render's frames as tiles: a thumbnail for each frame done (tap: the full image),
// a coloured placeholder with the frame number for the others.

/** Tiles drawn at first; a render of thousands of frames shows the rest on request. */
const FIRST_TILES = 120;

const PLACEHOLDER: Record<Exclude<FrameDto["status"], "done">, string> = {
  queued: "bg-stone-100 text-stone-500",
  rendering: "bg-amber-100 text-amber-900 animate-pulse",
  failed: "bg-red-100 text-red-800",
  cancelled: "bg-stone-50 text-stone-400",
};

export function FrameGrid({ renderId, frames, format }: { renderId: number; frames: FrameDto[]; format: OutputFormat }) {
  const [shown, setShown] = useState(FIRST_TILES);
  // Tiles take the frames' own shape once one is rendered.
  const sized = frames.find((frame) => frame.width && frame.height);
  const aspectRatio = sized ? `${sized.width} / ${sized.height}` : "4 / 3";
  return (
    <>
      <ul aria-label="Frames" className="grid grid-cols-4 gap-1.5 sm:grid-cols-6">
        {frames.slice(0, shown).map((frame) => (
          <li key={frame.frame} style={{ aspectRatio }} className="min-w-0">
            <FrameTile renderId={renderId} frame={frame} format={format} />
          </li>
        ))}
      </ul>
      {frames.length > shown ? (
        <Button type="button" variant="secondary" className="mt-3 w-full" onClick={() => setShown(frames.length)}>
          Show all {frames.length.toLocaleString("en")} frames
        </Button>
      ) : null}
    </>
  );
}

function FrameTile({ renderId, frame, format }: { renderId: number; frame: FrameDto; format: OutputFormat }) {
  const tile = "flex h-full w-full items-center justify-center overflow-hidden rounded-md text-xs font-semibold";
  if (frame.status !== "done") {
    return (
      <div role="img" aria-label={`Frame ${frame.frame}: ${frame.status}`} title={frameTitle(frame)} className={`${tile} ${PLACEHOLDER[frame.status]}`}>
        {frame.frame}
      </div>
    );
  }
  const image = `/api/v1/renders/${renderId}/frames/${frame.frame}`;
  return (
    <a
      href={image}
      download={frame.filename}
      aria-label={`Frame ${frame.frame}: download ${frame.filename}`}
      title={frameTitle(frame)}
      className={`${tile} relative bg-stone-800 text-white focus:ring-2 focus:ring-cactus-500 focus:outline-none`}
    >
      {/* The server makes no thumbnail of an OpenEXR frame: its name stands in. */}
      {format === "OPEN_EXR" ? (
        <span className="px-1 text-center break-all">{frame.frame} EXR</span>
      ) : (
        <img src={`${image}/thumbnail`} alt="" loading="lazy" decoding="async" className="h-full w-full object-cover" />
      )}
      <span className="absolute right-0.5 bottom-0.5 rounded bg-black/60 px-1 text-[10px] leading-4">{frame.frame}</span>
    </a>
  );
}

function frameTitle(frame: FrameDto): string {
  const parts = [`Frame ${frame.frame}`, frame.status];
  if (frame.workerName) parts.push(`by ${frame.workerName}`);
  if (frame.renderTimeMs !== null) parts.push(`${(frame.renderTimeMs / 1000).toFixed(1)} s`);
  return parts.join(" · ");
}
