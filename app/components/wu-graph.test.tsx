import { renderToStaticMarkup } from "react-dom/server";
import { expect, test } from "vitest";
import type { CurvePointDto } from "../../contract";
import { WuGraph } from "./wu-graph";

const point = (frame: number, wu: number, done: boolean, sampled = false): CurvePointDto => ({
  frame,
  wu,
  low: done ? wu : wu * 0.8,
  high: done ? wu : wu * 1.2,
  sampled,
  done,
});

test("the graph's marks and labels take the palette's colours, which dark mode turns over, not fixed ones", () => {
  const curve = [point(1, 0.1, true, true), point(2, 0.2, false), point(3, 0.3, true, true)];
  const markup = renderToStaticMarkup(<WuGraph curve={curve} frameStart={1} frameEnd={3} />);
  // A fixed colour stays light-mode's on a dark card: pale band, grey-on-black labels, dark dots.
  expect(markup).not.toMatch(/(fill|stroke)="#/);
  const classesOf = (selector: RegExp) => [...markup.matchAll(selector)].map((match) => match[1]);
  expect(classesOf(/<circle[^>]*class="([^"]+)"[^>]*data-done/g)).toEqual(["fill-cactus-700", "fill-cactus-700"]);
  expect(classesOf(/<path[^>]*class="([^"]+)"[^>]*data-sampled/g)).toEqual(["stroke-sky-700", "stroke-sky-700"]);
  expect(classesOf(/<text[^>]*class="([^"]+)"/g).every((name) => name === "fill-stone-600")).toBe(true);
  // The band's tint at 60 %: full amber-100 turned over for dark mode is a loud brown under the marks.
  expect(markup).toContain('class="fill-amber-100/60"');
});

test("the graph says what its numbers are: WU per frame", () => {
  const markup = renderToStaticMarkup(<WuGraph curve={[point(1, 0.1, true), point(2, 0.2, false)]} frameStart={1} frameEnd={2} />);
  expect(markup).toMatch(/<figure[^>]*><p[^>]*>WU per frame<\/p><svg/);
});
