# The agent's own render settings, run by Blender through --python-expr before the
# command line's -o, -F, -s/-e and -f, which therefore win over anything set here.
# It never changes how a frame looks unless the render asks it to: it makes the output
# what the farm collects (one image per frame, in the output directory), applies the
# render's overrides (camera, view layer, resolution percentage, samples), then prints
# what Blender will write. The overrides come as JSON after "--": data, never code.
import json
import sys

import bpy


class SettingsError(Exception):
    """A setting this scene cannot take: every worker would fail the same way."""


def overrides_of(argv):
    if "--" not in argv:
        return {}
    values = json.loads(argv[argv.index("--") + 1])
    return {key: value for key, value in values.items() if value is not None}


def apply_overrides(scene, overrides):
    render = scene.render
    # -S on the command line picked the scene; make sure it was there to pick.
    wanted = overrides.get("scene")
    if wanted is not None and scene.name != wanted:
        raise SettingsError("the file has no scene %s (Blender chose %s)" % (json.dumps(wanted), json.dumps(scene.name)))
    camera = overrides.get("camera")
    if camera is not None:
        found = bpy.data.objects.get(camera)
        if found is None or found.type != "CAMERA":
            raise SettingsError("the file has no camera object %s" % json.dumps(camera))
        scene.camera = found
    layer = overrides.get("viewLayer")
    if layer is not None:
        if scene.view_layers.get(layer) is None:
            raise SettingsError("scene %s has no view layer %s" % (json.dumps(scene.name), json.dumps(layer)))
        for view_layer in scene.view_layers:
            view_layer.use = view_layer.name == layer
        render.use_single_layer = False
    percentage = overrides.get("resolutionPercentage")
    if percentage is not None:
        render.resolution_percentage = int(percentage)
    samples = overrides.get("samples")
    if samples is not None:
        if render.engine == "CYCLES":
            scene.cycles.samples = int(samples)
        elif render.engine in ("BLENDER_EEVEE", "BLENDER_EEVEE_NEXT"):
            scene.eevee.taa_render_samples = int(samples)
        else:
            raise SettingsError("%s has no samples to set" % render.engine)


try:
    scene = bpy.context.scene
    render = scene.render
    apply_overrides(scene, overrides_of(sys.argv))
    # A chunk is consecutive frames: with -a Blender would otherwise skip by the file's step.
    scene.frame_step = 1
    render.use_overwrite = True
    render.use_placeholder = False
    # Stereo would write two images per frame (frame_00001_L.png, _R.png).
    render.use_multiview = False
    # File Output nodes write wherever the artist's machine had them; the farm only
    # collects the render result, so they are muted rather than left to fail or litter.
    muted = []
    if scene.use_nodes and scene.node_tree:
        for node in scene.node_tree.nodes:
            if node.bl_idname == "CompositorNodeOutputFile" and not node.mute:
                node.mute = True
                muted.append(node.name)

    width, height = output_size(render)

    print("CACTUS " + json.dumps({
        "scene": scene.name,
        "engine": render.engine,
        "width": width,
        "height": height,
        "camera": scene.camera.name if scene.camera else None,
        "viewLayers": [layer.name for layer in scene.view_layers if layer.use],
        "samples": samples_of(scene),
        "mutedFileOutputs": muted,
    }), flush=True)
except Exception as error:  # the farm cannot trust a render it could not set up
    print("Error: cactus render settings: %s" % error, flush=True)
    sys.exit(3)
