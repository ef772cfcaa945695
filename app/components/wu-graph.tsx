import type { CurvePointDto } from "../../contract";
import { formatWu } from "../../domain/work-units";

// The WU-per-frame graph of a render's estimate (docs/design.md §3), drawn as inline SVG
// so it needs no script and scales to a phone's width. Not by colour alone: frames done
// are filled dots, sample frames are diamonds, the estimated stretch is a dashed line
// over a hatched band; the legend says which is which. Colours are the palette's classes
// (fill-*, stroke-*), not fixed hex: dark mode turns the palette over (app/tailwind.css),
// so marks and labels keep their contrast on a dark card.

const WIDTH = 340;
const HEIGHT = 170;
const PAD = { left: 38, right: 10, top: 10, bottom: 26 };

export function WuGraph({ curve, frameStart, frameEnd }: { curve: CurvePointDto[]; frameStart: number; frameEnd: number }) {
  if (curve.length === 0) return null;
  const top = Math.max(...curve.map((point) => point.high), ...curve.map((point) => point.wu)) * 1.1 || 1;
  const span = Math.max(1, frameEnd - frameStart);
  const x = (frame: number) => PAD.left + ((frame - frameStart) / span) * (WIDTH - PAD.left - PAD.right);
  const y = (wu: number) => HEIGHT - PAD.bottom - (wu / top) * (HEIGHT - PAD.top - PAD.bottom);
  const line = (points: CurvePointDto[], value: (point: CurvePointDto) => number) =>
    points.map((point) => `${x(point.frame).toFixed(1)},${y(value(point)).toFixed(1)}`).join(" ");
  const band = `${line(curve, (point) => point.high)} ${line([...curve].reverse(), (point) => point.low)}`;
  const done = curve.filter((point) => point.done);
  const sampled = curve.filter((point) => point.sampled);
  const ticks = [0, top / 2 / 1.1, top / 1.1];
  const summary =
    `WU per frame from frame ${frameStart} to ${frameEnd}: ${done.length} of ${curve.length} points rendered, ` +
    `${sampled.length} sampled; from ${formatWu(Math.min(...curve.map((p) => p.wu)))} to ${formatWu(Math.max(...curve.map((p) => p.wu)))} WU a frame.`;
  return (
    <figure className="mt-3">
      {/* The axis's unit: the ticks alone are bare numbers. */}
      <p className="text-xs text-stone-600" aria-hidden="true">
        WU per frame
      </p>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} className="h-auto w-full" data-testid="wu-graph">
        <title>{summary}</title>
        <defs>
          <pattern id="wu-band" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" className="fill-amber-100/60" />
            <line x1="0" y1="0" x2="0" y2="6" className="stroke-amber-500" strokeWidth="1.2" opacity="0.5" />
          </pattern>
        </defs>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} className="stroke-stone-200" strokeWidth="1" />
            <text x={PAD.left - 4} y={y(tick) + 3} textAnchor="end" fontSize="9" className="fill-stone-600">
              {formatWu(tick)}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={HEIGHT - 8} fontSize="9" className="fill-stone-600">
          frame {frameStart}
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} fontSize="9" className="fill-stone-600" textAnchor="end">
          {frameEnd}
        </text>
        <polygon points={band} fill="url(#wu-band)" stroke="none" data-testid="wu-band" />
        <polyline points={line(curve, (point) => point.wu)} fill="none" className="stroke-stone-600" strokeWidth="1.5" strokeDasharray="4 3" />
        {done.map((point) => (
          <circle key={`d${point.frame}`} cx={x(point.frame)} cy={y(point.wu)} r={curve.length > 120 ? 1.6 : 2.6} className="fill-cactus-700" data-done />
        ))}
        {sampled.map((point) => {
          const cx = x(point.frame);
          const cy = y(point.wu);
          return (
            <path
              key={`s${point.frame}`}
              d={`M${cx} ${cy - 5}L${cx + 5} ${cy}L${cx} ${cy + 5}L${cx - 5} ${cy}Z`}
              fill="none"
              className="stroke-sky-700"
              strokeWidth="1.6"
              data-sampled
            />
          );
        })}
      </svg>
      <figcaption className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-xs text-stone-600">
        <span className="inline-flex items-center gap-1">
          <svg width="12" height="12" aria-hidden="true">
            <circle cx="6" cy="6" r="3.5" className="fill-cactus-700" />
          </svg>
          rendered
        </span>
        <span className="inline-flex items-center gap-1">
          <svg width="12" height="12" aria-hidden="true">
            <path d="M6 1L11 6L6 11L1 6Z" fill="none" className="stroke-sky-700" strokeWidth="1.6" />
          </svg>
          sample frame
        </span>
        <span className="inline-flex items-center gap-1">
          <svg width="18" height="12" aria-hidden="true">
            <line x1="0" y1="6" x2="18" y2="6" className="stroke-stone-600" strokeWidth="1.5" strokeDasharray="4 3" />
          </svg>
          estimate
        </span>
        <span className="inline-flex items-center gap-1">
          <svg width="14" height="12" aria-hidden="true">
            <rect width="14" height="12" fill="url(#wu-band)" className="stroke-amber-500" strokeWidth="0.5" />
          </svg>
          band
        </span>
      </figcaption>
    </figure>
  );
}
