"""The command line: `python -m catbreed train|evaluate|predict|export|info|default|certificates|serve|passes`.

Progress goes to stderr; with --json the last line of stdout is one JSON object. Exit codes: 0 on
success, 2 on input the user can fix (one line on stderr saying what), 1 on an internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from catbreed.errors import CatbreedError
from catbreed.messages import ENGLISH, message, percent, shell_language, text

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class ExportDisagrees(Exception):
    """An export was written but answers differently from the app: exit 1, with the report."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, like every other input error, instead of usage + error
        raise CatbreedError("cli.usage", problem=message, command=self.prog.split()[-1])


# The language of what the command line says (LC_ALL, LC_MESSAGES, LANG); --json output has none.
LANGUAGE = ENGLISH


def say(code: str, **params) -> str:
    return message(code, **params).text(LANGUAGE)


class ProgressPrinter:
    """A redrawn bar on a terminal; otherwise one line per stage and per fold, for logs."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr  # looked up now: whoever redirected stderr gets the progress
        self.tty = self.stream.isatty()
        self.stage = None

    def __call__(self, event) -> None:
        new_stage = event.stage != self.stage
        self.stage = event.stage
        eta = say("cli.eta", seconds=round(event.eta_seconds)) if event.eta_seconds is not None else ""
        metrics = say("cli.fold_accuracy", accuracy=round(event.accuracy, 3)) if event.accuracy is not None else ""
        stage = text(event.stage, LANGUAGE)
        if self.tty:
            bar = "#" * int(30 * event.fraction)
            end = "\n" if event.step >= event.total else ""
            self.stream.write(f"\r{stage:<24} [{bar:<30}] {event.step}/{event.total}{eta}{metrics}\033[K{end}")
        elif new_stage or event.step >= event.total or event.accuracy is not None:
            self.stream.write(f"{stage}: {event.step}/{event.total}{eta}{metrics}\n")
        self.stream.flush()


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=say("cli.help.json"))


def _add_settings(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainSettings field, with its default and help text: --mode, --augment/--no-augment, ..."""
    from catbreed.learn.settings import MODES, TrainSettings

    for setting in dataclasses.fields(TrainSettings):
        flag, help_text = (
            "--" + setting.name.replace("_", "-"),
            TrainSettings.help(setting.name, LANGUAGE).replace("%", "%%"),
        )
        if setting.type.startswith("bool"):  # --augment / --no-augment; unset leaves the mode's default
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=setting.default, help=help_text)
        else:
            kind = {"int": int, "float": float}.get(setting.type, str)
            choices = MODES if setting.name == "mode" else None
            parser.add_argument(flag, type=kind, default=setting.default, choices=choices, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m catbreed", description=say("cli.help.description"))
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help=say("cli.help.train"))
    train.add_argument("data", type=Path, help=say("cli.help.data"))
    train.add_argument("--out", type=Path, help=say("cli.help.out"))
    train.add_argument("--replace", action="store_true", help=say("cli.help.replace"))
    _add_settings(train)
    _add_common(train)

    evaluate = commands.add_parser("evaluate", help=say("cli.help.evaluate"))
    evaluate.add_argument("data", type=Path)
    evaluate.add_argument("--model", type=Path, required=True, help=say("cli.help.model_by_train"))
    _add_common(evaluate)

    predict = commands.add_parser("predict", help=say("cli.help.predict"))
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--model", type=Path, help=say("cli.help.model_or_builtin"))
    predict.add_argument("--top-k", type=int, default=3, help=say("cli.help.top_k"))
    predict.add_argument("--nearest", type=int, default=0, metavar="N", help=say("cli.help.nearest"))
    _add_common(predict)

    export = commands.add_parser("export", help=say("cli.help.export"))
    export.add_argument("--model", type=Path, required=True)
    export.add_argument("--format", choices=("tflite", "saved_model"), required=True)
    export.add_argument("--quantize", action="store_true", help=say("cli.help.quantize"))
    export.add_argument("--out", type=Path, required=True, help=say("cli.help.package"))
    _add_common(export)

    info = commands.add_parser("info", help=say("cli.help.info"))
    info.add_argument("model", type=Path)
    _add_common(info)

    default = commands.add_parser("default", help=say("cli.help.default"))
    default.add_argument("name", nargs="?", help=say("cli.help.default_name"))
    default.add_argument("--builtin", action="store_true", help=say("cli.help.builtin"))
    _add_common(default)

    certificates = commands.add_parser("certificates", help=say("cli.help.certificates"))
    certificates.add_argument("folder", type=Path, help=say("cli.help.folder"))
    certificates.add_argument("--host", action="append", default=[], help=say("cli.help.host"))
    _add_common(certificates)

    serve = commands.add_parser("serve", help=say("cli.help.serve"))
    serve.add_argument("--https", action="store_true", help=say("cli.help.https"))
    serve.add_argument("--cert", type=Path, help=say("cli.help.cert"))
    serve.add_argument("--key", type=Path, help=say("cli.help.key"))
    serve.add_argument("--address", default="0.0.0.0", help=say("cli.help.address"))
    serve.add_argument("--port", type=int, default=8501, help=say("cli.help.port"))

    passes = commands.add_parser("passes", help=say("cli.help.passes"))
    passes.add_argument("action", choices=["sign-out", "revoke"])
    passes.add_argument(
        "identity",
        nargs="?",
        help=say("cli.help.identity"),
    )
    _add_common(passes)
    return parser


def _emit(payload: dict, as_json: bool, text: str) -> None:
    print(json.dumps(payload, ensure_ascii=False) if as_json else text)


def _skipped(dataset) -> list[dict]:
    return [{"path": s.name, "reason": s.reason.to_json()} for s in dataset.skipped]  # codes: any language


class _ModelOut:
    """Where `train` writes its model, checked before the minutes of training: into the models
    folder through the store (its name rules and save lock), elsewhere as a plain folder."""

    def __init__(self, out: Path | None, data: Path, replace: bool):
        from catbreed.models.store import ModelStore

        self.store = ModelStore()
        self.replace = replace
        in_store = out is None or out.resolve().parent == self.store.root.resolve()
        self.name = self.store.path(out.name if out else data.stem or "model").name if in_store else None
        self.path = self.store.path(self.name) if in_store else out
        if self.path.exists() and not replace:
            raise CatbreedError("cli.model_exists", path=str(self.path))

    def save(self, bundle) -> Path:
        if self.name is None:
            return bundle.save(self.path)
        return self.store.save(bundle, self.name, overwrite=self.replace).path


def cmd_train(args) -> None:
    from catbreed.data.dataset import open_dataset
    from catbreed.learn.settings import TrainSettings
    from catbreed.learn.training import train
    from catbreed.paths import temp_folder

    settings = TrainSettings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainSettings)})
    started = time.perf_counter()
    progress = ProgressPrinter()
    target = _ModelOut(args.out, args.data, args.replace)
    with temp_folder("data") as workdir:
        dataset = open_dataset(args.data, workdir, on_event=progress)
        for warning in dataset.warnings:
            print(say("cli.warning", warning=warning), file=sys.stderr)
        result = train(dataset, settings, on_event=progress)
        out = target.save(result.bundle)
    metrics = result.bundle.metadata.metrics
    payload = {
        "model": str(out),
        "backbone": settings.backbone,
        "mode": settings.mode,
        "classes": dataset.classes,
        "counts": dataset.counts,
        "split": result.split.sizes(),
        "skipped": _skipped(dataset),
        "duplicates": [{"path": d.name, "kept": d.kept} for d in dataset.duplicates],
        "metrics": dataclasses.asdict(metrics),
        "seconds": round(time.perf_counter() - started, 2),
    }
    _emit(payload, args.json, _describe_metrics(out, metrics, payload["seconds"]))


def _percent(value) -> str:
    return say("cli.not_available") if value is None else percent(value, LANGUAGE)


def _describe_accuracy(metrics) -> str:
    """'expected accuracy 90.7% (89.3%-92.0%) by 5-fold cross-validation ...' of a Metrics record."""
    expected = metrics.expected_accuracy
    said = say("cli.accuracy", expected=expected.describe(LANGUAGE), method=expected.method)
    if metrics.test_accuracy is not None:
        said += say("cli.test_accuracy", accuracy=_percent(metrics.test_accuracy))
    return said


def _describe_metrics(out: Path, metrics, seconds: float) -> str:
    return say("cli.saved", path=str(out), seconds=round(seconds, 1), accuracy=_describe_accuracy(metrics))


def cmd_evaluate(args) -> None:
    from catbreed.data.dataset import open_dataset
    from catbreed.models.bundle import ModelBundle
    from catbreed.models.evaluation import evaluate
    from catbreed.models.predict import Predictor
    from catbreed.paths import temp_folder
    from catbreed.progress import Reporter

    bundle = ModelBundle.load(args.model)
    progress = ProgressPrinter()
    with temp_folder("data") as workdir:
        dataset = open_dataset(args.data, workdir, on_event=progress)
        unknown = [label for label in dataset.classes if label not in bundle.classes]
        if unknown:
            raise CatbreedError("cli.unknown_breeds", unknown=[repr(u) for u in unknown], known=list(bundle.classes))
        probabilities = Predictor(bundle).breed_probabilities([p.path for p in dataset.photos], Reporter(progress))
        index = {label: i for i, label in enumerate(bundle.classes)}
        result = evaluate(
            probabilities, [index[p.label] for p in dataset.photos], bundle.classes, [p.name for p in dataset.photos]
        )
    payload = {**result.to_dict(), "skipped": _skipped(dataset)}
    lines = [say("cli.evaluated", accuracy=_percent(result.accuracy), n=result.n)]
    lines += [
        say(
            "cli.per_breed",
            breed=f"{label:<24}",
            precision=f"{s['precision']:.2f}",
            recall=f"{s['recall']:.2f}",
            f1=f"{s['f1']:.2f}",
            n=s["support"],
        )
        for label, s in result.per_class.items()
        if s["support"]
    ]
    _emit(payload, args.json, "\n".join(lines))


def cmd_predict(args) -> None:
    from catbreed.data.images import ImageProblem, open_rgb
    from catbreed.models.bundle import ModelBundle
    from catbreed.models.metadata import BUILTIN_NAME
    from catbreed.models.predict import Predictor, builtin_bundle
    from catbreed.models.verdict import headline

    if args.top_k < 1:
        raise CatbreedError("cli.top_k", top_k=args.top_k)
    if args.nearest < 0:
        raise CatbreedError("cli.nearest", nearest=str(args.nearest))
    for image in args.images:  # every photo is checked before the model takes seconds to load
        if not image.is_file():
            raise CatbreedError("cli.no_photo", path=str(image))
        try:
            open_rgb(image)
        except ImageProblem as problem:
            raise CatbreedError("photo.not_a_photo", name=str(image), reason=problem.reason) from None
    predictor = Predictor(ModelBundle.load(args.model) if args.model else builtin_bundle())
    if args.nearest and predictor.bundle.neighbours is None:
        raise CatbreedError("cli.no_neighbours", model=str(args.model or BUILTIN_NAME))
    results, lines = [], []
    for image in args.images:
        prediction = predictor.predict(image, top_k=args.top_k)
        top = [{"label": label, "probability": round(p, 4)} for label, p in prediction.top]
        results.append(
            {
                "image": str(image),
                "verdict": prediction.verdict,
                "top": top,
                "is_cat": prediction.is_cat,
                "familiarity": None if prediction.familiarity is None else round(prediction.familiarity, 3),
            }
        )
        said = headline(prediction.verdict, prediction.top[0][0]).text(LANGUAGE)
        lines.append(f"{image}: {said}  (" + ", ".join(f"{t['label']} {t['probability']:.2f}" for t in top) + ")")
        if args.nearest:
            classes = predictor.bundle.classes
            near = [
                {"photo": n.name, "breed": classes[n.breed], "similarity": round(n.similarity, 4)}
                for n in predictor.nearest(prediction, args.nearest)
            ]
            results[-1]["nearest"] = near
            lines += [
                say("cli.nearest_line", photo=n["photo"], breed=n["breed"], similarity=n["similarity"]) for n in near
            ]
    _emit({"predictions": results}, args.json, "\n".join(lines))


def cmd_export(args) -> None:
    _import_tensorflow_quietly()
    from catbreed.models.bundle import ModelBundle
    from catbreed.models.export import export_package
    from catbreed.models.predict import Predictor

    bundle = ModelBundle.load(args.model)
    report = export_package(bundle, args.format, args.out, Predictor(bundle), quantize=args.quantize)
    payload = {
        "out": str(args.out),
        "format": args.format,
        "quantized": args.quantize,
        "parity": dataclasses.asdict(report),
    }
    _emit(payload, args.json, say("cli.wrote_export", path=str(args.out), report=report.describe(LANGUAGE)))
    if report.flagged:
        raise ExportDisagrees(say("cli.export_disagrees", path=str(args.out), report=report.describe(LANGUAGE)))


def cmd_info(args) -> None:
    from catbreed.models.bundle import ModelBundle

    bundle = ModelBundle.load(args.model)
    meta = bundle.metadata
    split = (
        say("cli.info.split", train=meta.split.train, test=meta.split.test) if meta.split else say("cli.info.unknown")
    )
    accuracy = _describe_accuracy(meta.metrics) if meta.metrics else say("cli.info.not_estimated")
    lines = [
        say("cli.info.model", path=str(bundle.path)),
        say("cli.info.created", created=meta.created),
        say("cli.info.backbone", backbone=meta.backbone, size=bundle.image_size),
        say("cli.info.mode", mode=meta.mode),
        say("cli.info.breeds", n=len(bundle.classes), breeds=list(bundle.classes)),
        say("cli.info.photos", split=split),
        say("cli.info.accuracy", accuracy=accuracy),
    ]
    _emit({"model": str(bundle.path), **meta.to_dict()}, args.json, "\n".join(lines))


def cmd_default(args) -> None:
    from catbreed.models.metadata import BUILTIN_NAME
    from catbreed.models.store import ModelStore

    store = ModelStore()
    if args.builtin and args.name:
        raise CatbreedError("cli.name_or_builtin")
    if args.builtin or args.name:
        store.set_default(None if args.builtin else args.name)
    name = store.default_name()
    said = say("cli.default_now" if args.builtin or args.name else "cli.default_is", name=name or BUILTIN_NAME)
    _emit({"default": name}, args.json, said)


def cmd_certificates(args) -> None:
    from catbreed.certificates import make_certificates

    written = make_certificates(args.folder, args.host or ["127.0.0.1", "localhost"])
    lines = [say("cli.certificates.wrote", n=len(written), folder=str(args.folder))]
    lines += [f"  {name:14} {path.name}" for name, path in written.items()]
    lines += [say("cli.certificates.advice")]
    _emit({name: str(path) for name, path in written.items()}, args.json, "\n".join(lines))


def cmd_serve(args) -> None:
    """Run the app (from the checkout this package sits in) on this machine's network, over HTTPS
    with --https (a certificate made here) or --cert/--key (the operator's own): the process
    becomes Streamlit's server."""
    from catbreed.serving import check_certificate_pair, phone_urls, server_certificate

    root = Path(__file__).resolve().parents[1]
    if not (root / "app.py").is_file():
        raise CatbreedError("serve.no_app", folder=str(root))
    if (args.cert is None) != (args.key is None):
        raise CatbreedError("serve.cert_and_key")
    if not 1 <= args.port <= 65535:
        raise CatbreedError("serve.bad_port", port=str(args.port))
    https = args.https or args.cert is not None
    command = [sys.executable, "-m", "streamlit", "run", "app.py", f"--server.address={args.address}"]
    # Our own lines say where to open it: Streamlit's banner would look up a public address on the internet.
    command += [f"--server.port={args.port}", "--server.headless=true", "--logger.hideWelcomeMessage=true"]
    if https:
        certificate, key = (args.cert, args.key) if args.cert else server_certificate()
        check_certificate_pair(certificate, key)
        command += [f"--server.sslCertFile={Path(certificate).resolve()}", f"--server.sslKeyFile={Path(key).resolve()}"]
    scheme = "https" if https else "http"
    lines = [say("cli.serve.here", url=f"{scheme}://localhost:{args.port}/")]
    urls = phone_urls(args.address, args.port, https)
    lines += [say("cli.serve.phone", url=url) for url in urls]
    if https and args.cert is None:
        lines.append(say("cli.serve.self_signed"))
    if urls and not https:
        lines.append(say("cli.serve.no_phone_camera"))
    print("\n".join(lines), flush=True)
    os.chdir(root)  # Streamlit reads .streamlit/config.toml from the folder it runs in
    os.execv(sys.executable, command)


def cmd_passes(args) -> None:
    from catbreed.access import PassBook
    from catbreed.paths import catbreed_home

    book = PassBook(catbreed_home())
    if args.action == "revoke":
        if not args.identity:
            raise CatbreedError("cli.revoke_whom")
        book.revoke(args.identity)
        said = say("cli.passes.revoked", identity=args.identity)
    else:
        book.sign_out(args.identity)
        said = (
            say("cli.passes.signed_out", identity=args.identity) if args.identity else say("cli.passes.all_signed_out")
        )
    _emit({"action": args.action, "identity": args.identity}, args.json, said)


def _import_tensorflow_quietly() -> None:
    """TensorFlow's C++ start-up lines go straight to file descriptor 2, past TF_CPP_MIN_LOG_LEVEL.
    Only `export` imports it; training and prediction run on LiteRT and never do."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "export": cmd_export,
    "info": cmd_info,
    "default": cmd_default,
    "certificates": cmd_certificates,
    "serve": cmd_serve,
    "passes": cmd_passes,
}


def main(argv: list[str] | None = None) -> int:
    global LANGUAGE
    LANGUAGE = shell_language()
    try:
        args = build_parser().parse_args(argv)
        COMMANDS[args.command](args)
        return EXIT_OK
    except CatbreedError as error:
        print(say("cli.error", error=error.message), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ExportDisagrees as error:
        print(say("cli.error", error=str(error)), file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print(say("cli.interrupted"), file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as error:  # the last line of defence: one line, not a traceback
        if os.environ.get("CATBREED_DEBUG"):
            raise
        print(say("cli.internal_error", error=f"{type(error).__name__}: {error}"), file=sys.stderr)
        return EXIT_INTERNAL
