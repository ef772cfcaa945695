# The agent's own render settings, run by Blender through --python-expr before the
# command line's -o, -F, -s/-e and -f, which therefore win over anything set here.
# It never changes how a frame looks: it only makes the output what the farm collects
# (one image per frame, in the output directory), then prints what Blender will write.
import json
import sys

import bpy

try:
    scene = bpy.context.scene
    render = scene.render
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
        "mutedFileOutputs": muted,
    }), flush=True)
except Exception as error:  # the farm cannot trust a render it could not set up
    print("Error: cactus render settings: %s" % error, flush=True)
    sys.exit(3)
