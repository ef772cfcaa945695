import { expect, test } from "vitest";
import { frameFilename, renderZipFilename, sceneBaseName } from "./frame-files";

test("a frame is named after the scene, padded to five digits as Blender does, with its format's extension", () => {
  expect(frameFilename("shot", 12, "PNG")).toBe("shot_00012.png");
  expect(frameFilename("shot", 0, "JPEG")).toBe("shot_00000.jpg");
  expect(frameFilename("shot", 1_048_574, "OPEN_EXR")).toBe("shot_1048574.exr");
  expect(renderZipFilename("shot", 12)).toBe("shot_render12.zip");
});

test.each([
  [{ filename: "shot.blend", mainPath: null }, "shot"],
  [{ filename: "pack.zip", mainPath: "scenes/shot020.blend" }, "shot020"],
  [{ filename: "Spring Short (v2).BLEND", mainPath: null }, "Spring_Short_v2_"],
  [{ filename: "..blend", mainPath: null }, "frame"],
  [{ filename: "x.zip", mainPath: "a\\b\\.hidden.blend" }, "hidden"],
])("the scene's base name of %o is %s: no folders, no extension, nothing a shell or a zip would trip on", (archive, base) => {
  expect(sceneBaseName(archive)).toBe(base);
});
