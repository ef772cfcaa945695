# Reads the facts of the scene Blender opened (autoexec off: nothing of the file runs)
# and prints them as one `CACTUS_FACTS {json}` line, the shape of contract/agent.ts
# sceneFactsSchema. Blender then quits: no frame is rendered.
import json
import os
import sys

import bpy


def blender_version_of_file():
    major, minor = bpy.data.version[0], bpy.data.version[1]
    return "%d.%d" % (major, minor) if major else None


def compositor_denoises(scene):
    if not (scene.use_nodes and scene.node_tree):
        return False
    return any(n.bl_idname == "CompositorNodeDenoise" and not n.mute for n in scene.node_tree.nodes)


def denoising_of(scene):
    # Cycles denoises when the scene asks for it and a rendered view layer does too; a
    # Denoise node in the compositor needs the same library (OpenImageDenoise).
    cycles = scene.render.engine == "CYCLES" and scene.cycles.use_denoising and any(
        layer.use and layer.cycles.use_denoising for layer in scene.view_layers
    )
    return bool(cycles or compositor_denoises(scene))


def animated_ids():
    for name in dir(bpy.data):
        collection = getattr(bpy.data, name, None)
        if not isinstance(collection, bpy.types.bpy_prop_collection):
            continue
        for datablock in collection:
            if not isinstance(datablock, bpy.types.ID):
                break
            yield datablock
            tree = getattr(datablock, "node_tree", None)
            if tree is not None:
                yield tree


def scripts_present():
    # Text blocks (registered ones run on load when autoexec is on) and drivers whose
    # expression needs Python: with autoexec off they do not run, so the farm's frames
    # may differ from the artist's.
    found = []
    for text in bpy.data.texts:
        found.append(("registered text " if text.use_module else "text ") + text.name)
    for datablock in animated_ids():
        animation = getattr(datablock, "animation_data", None)
        if animation is None:
            continue
        for fcurve in animation.drivers:
            driver = fcurve.driver
            if driver.type == "SCRIPTED" and not driver.is_simple_expression:
                found.append("python driver %s.%s[%d]: %s" % (datablock.name, fcurve.data_path, fcurve.array_index, driver.expression))
    return found


def missing_files():
    missing = []

    def check(path, library=None, shown=None):
        if path and not os.path.exists(bpy.path.abspath(path, library=library)):
            missing.append(shown or path)

    for library in bpy.data.libraries:
        check(library.filepath)
    for image in bpy.data.images:
        if image.packed_file or image.source not in ("FILE", "SEQUENCE", "MOVIE", "TILED"):
            continue
        if image.source == "TILED":
            for tile in image.tiles:
                check(image.filepath.replace("<UDIM>", str(tile.number)), image.library)
        else:
            check(image.filepath, image.library)
    for group in (bpy.data.movieclips, bpy.data.sounds, bpy.data.volumes, bpy.data.cache_files):
        for datablock in group:
            if not getattr(datablock, "packed_file", None):
                check(datablock.filepath, datablock.library)
    for font in bpy.data.fonts:
        if font.filepath != "<builtin>" and not font.packed_file:
            check(font.filepath, font.library)
    return sorted(set(missing))


def view_layers_of(scene):
    # `use` is "Use for Rendering": a scene whose view layers all have it off renders
    # empty frames without an error.
    return [{"name": layer.name, "use": bool(layer.use)} for layer in scene.view_layers]


def border_of(render):
    # The render region ("border"): Blender renders only inside it, refuses an empty one
    # ("Image too small"), and writes an image of its size when it crops.
    if not render.use_border:
        return None
    return {
        "minX": render.border_min_x,
        "maxX": render.border_max_x,
        "minY": render.border_min_y,
        "maxY": render.border_max_y,
        "crop": bool(render.use_crop_to_border),
    }


def scene_facts(scene):
    render = scene.render
    width, height = output_size(render)
    return {
        "name": scene.name,
        "frameStart": scene.frame_start,
        "frameEnd": scene.frame_end,
        "frameStep": scene.frame_step,
        "fps": round(render.fps / render.fps_base, 3),
        "resolutionX": render.resolution_x,
        "resolutionY": render.resolution_y,
        "resolutionPercentage": render.resolution_percentage,
        "outputWidth": width,
        "outputHeight": height,
        "border": border_of(render),
        "engine": render.engine,
        "samples": samples_of(scene),
        "denoising": denoising_of(scene),
        "outputFormat": render.image_settings.file_format,
        "cameras": sorted(o.name for o in scene.objects if o.type == "CAMERA"),
        "activeCamera": scene.camera.name if scene.camera else None,
        "viewLayers": view_layers_of(scene),
    }


try:
    # The scene Blender renders when told nothing else, flat at the top as before; every
    # scene of the file under "scenes" (a render may pick another with --scene).
    active = scene_facts(bpy.context.scene)
    scripts = scripts_present()
    facts = {
        "blenderVersion": blender_version_of_file(),
        "scene": active.pop("name"),
        **active,
        "scenes": [scene_facts(scene) for scene in bpy.data.scenes],
        # Camera objects anywhere in the file: what a render may name with --camera.
        "cameraObjects": sorted(o.name for o in bpy.data.objects if o.type == "CAMERA"),
        "hasScripts": len(scripts) > 0,
        "scripts": scripts,
        "missingFiles": missing_files(),
    }
    print("CACTUS_FACTS " + json.dumps(facts), flush=True)
except Exception as error:
    print("Error: cactus inspection: %s" % error, flush=True)
    sys.exit(3)
