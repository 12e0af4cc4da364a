"""Asserts that every built package carries the session-manager Lambda bundle, byte for byte.

jsii ships the library to Python, Java and Go as the npm tarball embedded in each artifact, so
the bundle must be inside that embedded tarball; a package without it would fail at synth time
on the user's machine. Usage: python3 check_artifacts.py <repository root>
"""
import glob
import hashlib
import io
import os
import sys
import tarfile
import zipfile

ASSET = "assets/session-manager/session-manager.lambda/index.js"


def asset_in_npm_tarball(data: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(f"package/{ASSET}")
        if member is None:
            raise AssertionError(f"{ASSET} is not a file in the npm tarball")
        return member.read()


def only_match(pattern: str) -> str:
    matches = glob.glob(pattern, recursive=True)
    if len(matches) != 1:
        raise AssertionError(f"expected one file matching {pattern}, found {matches}")
    return matches[0]


def member_of_zip(path: str, suffix: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(suffix)]
        if len(names) != 1:
            raise AssertionError(f"expected one *{suffix} in {path}, found {names}")
        return archive.read(names[0])


def member_of_tgz(path: str, suffix: str) -> bytes:
    with tarfile.open(path, mode="r:gz") as tar:
        names = [n for n in tar.getnames() if n.endswith(suffix)]
        if len(names) != 1:
            raise AssertionError(f"expected one *{suffix} in {path}, found {names}")
        return tar.extractfile(names[0]).read()


def main(root: str) -> int:
    dist = os.path.join(root, "dist")
    with open(os.path.join(root, ASSET), "rb") as f:
        expected = hashlib.sha256(f.read()).hexdigest()

    npm = only_match(f"{dist}/js/*.jsii.tgz")
    wheel = only_match(f"{dist}/python/*.whl")
    sdist = only_match(f"{dist}/python/*.tar.gz")
    jar = only_match(f"{dist}/java/**/cdk-fargate-traffic-mirror-*[0-9].jar")
    go_tarball = only_match(f"{dist}/go/cdkfargatetrafficmirror/jsii/*.tgz")

    embedded = {
        "npm tarball": (npm, open(npm, "rb").read()),
        "Python wheel": (wheel, member_of_zip(wheel, ".jsii.tgz")),
        "Python sdist": (sdist, member_of_tgz(sdist, ".jsii.tgz")),
        "Maven jar": (jar, member_of_zip(jar, ".jsii.tgz")),
        "Go module": (go_tarball, open(go_tarball, "rb").read()),
    }
    failures = 0
    for kind, (path, tarball) in embedded.items():
        digest = hashlib.sha256(asset_in_npm_tarball(tarball)).hexdigest()
        ok = digest == expected
        failures += not ok
        size_kib = os.path.getsize(path) / 1024
        print(f"{'ok ' if ok else 'BAD'} {kind:13} {size_kib:7.0f} KiB  {os.path.relpath(path, root)}")
    if failures:
        print(f"{failures} artifact(s) lack {ASSET} or carry a different one", file=sys.stderr)
        return 1
    print(f"every artifact carries {ASSET} (sha256 {expected[:12]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
