import type { ReactNode } from "react";
import type { ArchiveDto } from "../../contract";
import { formatBytes } from "~/lib/format";

/** One archive with the facts read at upload, as a card that fits a phone; `children` go under the facts. */
export function ArchiveCard({ archive, children }: { archive: ArchiveDto; children?: ReactNode }) {
  const { facts } = archive;
  const rows: [string, string | null][] = [
    ["Size", formatBytes(archive.size)],
    ["Blender", facts.blenderVersion],
    ["Compression", facts.compression],
    ["Main .blend", archive.mainPath],
    ["Frames", facts.frameStart !== null && facts.frameEnd !== null ? `${facts.frameStart}–${facts.frameEnd}` : null],
    ["Resolution", facts.resolutionX && facts.resolutionY ? `${facts.resolutionX}×${facts.resolutionY}` : null],
    ["Engine", facts.engine],
    ["sha256", archive.hash.slice(0, 12)],
  ];
  return (
    <li className="rounded-xl border border-stone-200 bg-white p-4 shadow-sm" aria-label={archive.filename}>
      <div className="mb-2 flex items-start justify-between gap-2">
        <span className="min-w-0 font-semibold break-all">{archive.filename}</span>
        <span className="shrink-0 rounded-full bg-cactus-100 px-2 py-0.5 text-xs font-semibold text-cactus-800 uppercase">
          {archive.kind}
        </span>
      </div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        {rows
          .filter((row): row is [string, string] => row[1] !== null)
          .map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-stone-500">{label}</dt>
              <dd className={`min-w-0 break-all ${label === "sha256" ? "font-mono" : ""}`} title={label === "sha256" ? archive.hash : undefined}>
                {value}
              </dd>
            </div>
          ))}
      </dl>
      {children}
    </li>
  );
}
