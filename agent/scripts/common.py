# Prepended to render.py and inspect.py (each runs as one --python-expr text).


def output_size(render):
    """The size of the images Blender writes: its own arithmetic (initrender.cc), an
    integer percentage, then the border in pixels truncated when the border crops."""
    width = render.resolution_x * render.resolution_percentage // 100
    height = render.resolution_y * render.resolution_percentage // 100
    if render.use_border and render.use_crop_to_border:
        width = int(render.border_max_x * width) - int(render.border_min_x * width)
        height = int(render.border_max_y * height) - int(render.border_min_y * height)
    return width, height


def samples_of(scene):
    engine = scene.render.engine
    if engine == "CYCLES":
        return scene.cycles.samples
    if engine in ("BLENDER_EEVEE", "BLENDER_EEVEE_NEXT"):
        return scene.eevee.taa_render_samples
    if engine == "BLENDER_WORKBENCH":
        aa = scene.display.render_aa
        return int(aa) if aa.isdigit() else 1
    return None
