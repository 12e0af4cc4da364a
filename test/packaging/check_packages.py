"""Checks what we publish: every file of every package, each package's size and the dependency
ranges it declares.

Reads the artifacts `npx projen package-all` writes to dist/ (npm tarball, wheel, sdist, Maven
jars and POM, Go module) and fails when
  - a file is outside the allow-list below. jsii ships the library to Python, Java and Go as the
    npm tarball embedded in each package, so that embedded tarball is listed and checked too;
  - a compiled file in lib/ has no source in src/ (stale output of a deleted module);
  - an artifact is larger than MAX_BYTES;
  - a package does not carry the session-manager bundle of assets/ byte for byte (without it the
    construct fails at synth time on the user's machine);
  - the declared range of aws-cdk-lib or constructs differs from RANGES (npm peerDependencies,
    wheel and sdist Requires-Dist, POM, go.mod).
Prints one line per artifact with its size. Python's standard library only.

Usage: python3 check_packages.py <repository root>   (the root holds package.json, src/, assets/, dist/)
"""
import glob
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import xml.etree.ElementTree as ElementTree
import zipfile

# The range of each peer we support: the floor we build and test against, up to the next major.
RANGES = {"aws-cdk-lib": ("2.170.0", "3.0.0"), "constructs": ("10.3.0", "11.0.0")}
# Goal from the issue that set up packaging: every artifact under 1 MB.
MAX_BYTES = 1_000_000
ASSET = "assets/runtime/session-manager.lambda/index.js"

NPM_NAME = "cdk-fargate-traffic-mirror"
PY_DIST = "cdk_fargate_traffic_mirror"  # distribution and module name
JAVA_PATH = "io/github/cdkfargatetrafficmirror"
MAVEN_GROUP, MAVEN_ARTIFACT = "io.github.cdkfargatetrafficmirror", "cdk-fargate-traffic-mirror"
GO_DIR = "cdkfargatetrafficmirror"
GO_MODULES = {"aws-cdk-lib": "github.com/aws/aws-cdk-go/awscdk/v2", "constructs": "github.com/aws/constructs-go/constructs/v10"}
MAVEN_IDS = {"aws-cdk-lib": ("software.amazon.awscdk", "aws-cdk-lib"), "constructs": ("software.constructs", "constructs")}

# Files of the npm package, relative to its root: what `files` in package.json lets in
# (.projenrc.ts), plus what npm always adds.
NPM_ALLOWED = [
    "package.json", "README.md", "LICENSE", "API.md",
    ".jsii",             # the assembly: the jsii runtime of every language loads it
    ".jsii.tabl.json",   # rosetta's translations of the README and @example snippets
    "lib/**.js", "lib/**.d.ts",
    ASSET,
    # The capture agent's and receiver's sources and Dockerfile, for ContainerImage.fromAsset:
    # no binary, no test, no benchmark.
    "capture-agent/Dockerfile", "capture-agent/.dockerignore", "capture-agent/go.mod", "capture-agent/go.sum",
    "capture-agent/cmd/capture-agent/*.go", "capture-agent/cmd/mirror-receiver/*.go", "capture-agent/internal/**.go",
    "capture-agent/README.md",  # npm takes every README it finds
]
# Never in a package, even where a pattern above would let it in.
NPM_FORBIDDEN = ["lib/runtime/**", "**_test.go", "capture-agent/bin/**", "capture-agent/e2e/**", "capture-agent/testdata/**"]


def pattern(glob_pattern):
    """`**` matches across directories, `*` within one, `{a,b}` either."""
    out = ""
    i = 0
    while i < len(glob_pattern):
        if glob_pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob_pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob_pattern[i] == "{":
            end = glob_pattern.index("}", i)
            out, i = out + "(?:" + "|".join(map(re.escape, glob_pattern[i + 1:end].split(","))) + ")", end + 1
        else:
            out, i = out + re.escape(glob_pattern[i]), i + 1
    return re.compile(out + r"\Z")


def outside(names, allowed):
    patterns = [pattern(p) for p in allowed]
    return sorted(n for n in names if not any(p.match(n) for p in patterns))


def expected_specifiers(name):
    low, high = RANGES[name]
    return {f">={low}", f"<{high}"}


def npm_range(text):
    """{'>=A.B.C', '<D.0.0'} for the `^A.B.C` and `>=A.B.C <D.E.F` forms; the text itself otherwise."""
    text = text.strip()
    caret = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)", text)
    if caret and caret.group(1) != "0":
        return {f">={caret.group(1)}.{caret.group(2)}.{caret.group(3)}", f"<{int(caret.group(1)) + 1}.0.0"}
    parts = text.split()
    if len(parts) == 2 and parts[0].startswith(">=") and parts[1].startswith("<"):
        return set(parts)
    return {text}


def python_requirements(lines):
    """name -> set of specifiers, from `name<3.0.0,>=2.170.0` or `name (<3.0.0,>=2.170.0)` lines."""
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*\(?([^;)]*)\)?\s*(;.*)?", line)
        if match:
            found[match.group(1).lower()] = {s.replace(" ", "") for s in match.group(2).split(",") if s.strip()}
    return found


class Checker:
    def __init__(self, root):
        self.root = root
        self.dist = os.path.join(root, "dist")
        with open(os.path.join(root, "package.json")) as f:
            self.version = json.load(f)["version"]
        with open(os.path.join(root, ASSET), "rb") as f:
            self.asset_sha256 = hashlib.sha256(f.read()).hexdigest()
        self.tgz = f"{NPM_NAME}@{self.version}.jsii.tgz"
        self.problems = []

    def fail(self, where, message):
        self.problems.append(f"{where}: {message}")

    def strays(self, where, names, shown=10):
        if names:
            more = f" and {len(names) - shown} more" if len(names) > shown else ""
            self.fail(where, f"{len(names)} file(s) outside the allow-list: {', '.join(names[:shown])}{more}")

    def find(self, relative):
        path = os.path.join(self.dist, relative)
        if not os.path.exists(path):
            self.fail(relative, "missing (run `npx projen package-all` first)")
            return None
        return path

    # The npm tarball, as published and as embedded in the other packages.
    def check_npm_tarball(self, where, data):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            names = [n[len("package/"):] if n.startswith("package/") else n for n in members]
            self.strays(where, outside(names, NPM_ALLOWED))
            forbidden = [pattern(p) for p in NPM_FORBIDDEN]
            for name in names:
                if any(p.match(name) for p in forbidden):
                    self.fail(where, f"{name} must not ship (binary, test or test data)")
            # The image asset: the agent's and the receiver's main packages and their Dockerfile.
            for required in ["capture-agent/Dockerfile", "capture-agent/go.mod", "capture-agent/cmd/capture-agent/main.go"]:
                if required not in names:
                    self.fail(where, f"lacks {required} (CaptureMethod.sidecar() builds its image from it)")
            for name in names:
                source = re.sub(r"(\.d\.ts|\.js)\Z", ".ts", "src/" + name[len("lib/"):]) if name.startswith("lib/") else None
                if source and not os.path.exists(os.path.join(self.root, source)):
                    self.fail(where, f"{name} has no source {source} (stale build output)")
            for required in ["package.json", ".jsii", "lib/index.js", ASSET]:
                if required not in names:
                    self.fail(where, f"lacks {required}")
            if ASSET in names:
                bundle = tar.extractfile(members["package/" + ASSET]).read()
                if hashlib.sha256(bundle).hexdigest() != self.asset_sha256:
                    self.fail(where, f"{ASSET} differs from the one in the work tree")
            if "package.json" in names:
                manifest = json.load(tar.extractfile(members["package/package.json"]))
                peers = manifest.get("peerDependencies", {})
                for dep in RANGES:
                    declared = npm_range(peers.get(dep, "(none)"))
                    if declared != expected_specifiers(dep):
                        self.fail(where, f"peerDependencies {dep} is {peers.get(dep)}, want >={RANGES[dep][0]} <{RANGES[dep][1]}")
                for field in ["dependencies", "bundledDependencies", "bundleDependencies"]:
                    if manifest.get(field):
                        self.fail(where, f"package.json has {field} {manifest[field]}: users would install them")
        return len(names)

    def check_python_requirements(self, where, requirements):
        for dep in RANGES:
            if requirements.get(dep) != expected_specifiers(dep):
                self.fail(where, f"requires {dep} {sorted(requirements.get(dep, []))}, want {sorted(expected_specifiers(dep))}")

    def check_pom(self, where, data):
        ns = {"m": "http://maven.apache.org/POM/4.0.0"}
        project = ElementTree.fromstring(data)
        versions = {}
        for dep in project.findall("m:dependencies/m:dependency", ns):
            key = (dep.findtext("m:groupId", namespaces=ns), dep.findtext("m:artifactId", namespaces=ns))
            versions[key] = dep.findtext("m:version", namespaces=ns)
        for dep, key in MAVEN_IDS.items():
            want = f"[{RANGES[dep][0]},{RANGES[dep][1]})"
            if versions.get(key) != want:
                self.fail(where, f"depends on {':'.join(key)} {versions.get(key)}, want {want}")

    def report(self, kind, path, files, problems_before):
        size = os.path.getsize(path) if os.path.isfile(path) else sum(
            os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        if size > MAX_BYTES:
            self.fail(os.path.relpath(path, self.dist), f"{size} bytes, over the {MAX_BYTES}-byte limit")
        status = "ok " if len(self.problems) == problems_before else "BAD"
        print(f"{status} {kind:14} {size:9d} bytes ({size / 1024:5.0f} KiB) {files:5d} files  dist/{os.path.relpath(path, self.dist)}")

    def check_embedded(self, where, data):
        return self.check_npm_tarball(f"{where} (embedded npm tarball)", data)

    def run(self):
        ranges = ", ".join(f"{d} >={lo} <{hi}" for d, (lo, hi) in RANGES.items())
        print(f"packages of version {self.version}: allow-listed files only, each under {MAX_BYTES} bytes, {ranges}")

        path = self.find(f"js/{self.tgz}")
        if path:
            before = len(self.problems)
            with open(path, "rb") as f:
                files = self.check_npm_tarball(os.path.relpath(path, self.dist), f.read())
            self.report("npm tarball", path, files, before)

        path = self.find(f"python/{PY_DIST}-{self.version}-py3-none-any.whl")
        if path:
            before, where = len(self.problems), os.path.relpath(path, self.dist)
            info = f"{PY_DIST}-{self.version}.dist-info"
            with zipfile.ZipFile(path) as whl:
                names = [n for n in whl.namelist() if not n.endswith("/")]
                self.strays(where, outside(names, [
                    f"{PY_DIST}/**__init__.py", f"{PY_DIST}/py.typed", f"{PY_DIST}/_jsii/{self.tgz}",
                    f"{info}/{{METADATA,WHEEL,RECORD,top_level.txt,LICENSE,NOTICE}}", f"{info}/licenses/*",
                ]))
                if f"{PY_DIST}/_jsii/{self.tgz}" in names:
                    self.check_embedded(where, whl.read(f"{PY_DIST}/_jsii/{self.tgz}"))
                else:
                    self.fail(where, f"lacks {PY_DIST}/_jsii/{self.tgz}")
                metadata = whl.read(f"{info}/METADATA").decode() if f"{info}/METADATA" in names else ""
                requires = [l.split(":", 1)[1] for l in metadata.splitlines() if l.startswith("Requires-Dist:")]
                self.check_python_requirements(f"{where} METADATA", python_requirements(requires))
            self.report("Python wheel", path, len(names), before)

        path = self.find(f"python/{PY_DIST}-{self.version}.tar.gz")
        if path:
            before, where = len(self.problems), os.path.relpath(path, self.dist)
            top = f"{PY_DIST}-{self.version}"
            with tarfile.open(path, mode="r:gz") as sdist:
                members = {m.name: m for m in sdist.getmembers() if m.isfile()}
                read = lambda name: sdist.extractfile(members[name]).read() if name in members else b""
                self.strays(where, outside(members, [
                    f"{top}/{{PKG-INFO,setup.py,setup.cfg,pyproject.toml,MANIFEST.in,README.md,LICENSE,NOTICE}}",
                    f"{top}/src/{PY_DIST}/**__init__.py", f"{top}/src/{PY_DIST}/py.typed", f"{top}/src/{PY_DIST}/_jsii/{self.tgz}",
                    f"{top}/src/{PY_DIST}.egg-info/{{PKG-INFO,SOURCES.txt,dependency_links.txt,requires.txt,top_level.txt}}",
                ]))
                embedded = f"{top}/src/{PY_DIST}/_jsii/{self.tgz}"
                if embedded in members:
                    self.check_embedded(where, read(embedded))
                else:
                    self.fail(where, f"lacks {embedded}")
                pkg_info = read(f"{top}/PKG-INFO").decode()
                requires = [l.split(":", 1)[1] for l in pkg_info.splitlines() if l.startswith("Requires-Dist:")]
                self.check_python_requirements(f"{where} PKG-INFO", python_requirements(requires))
                # What pip uses when it builds the sdist.
                setup = re.search(r'json\.loads\(\s*"""(.*?)"""', read(f"{top}/setup.py").decode(), re.S)
                install_requires = json.loads(setup.group(1)).get("install_requires", []) if setup else []
                self.check_python_requirements(f"{where} setup.py", python_requirements(install_requires))
            self.report("Python sdist", path, len(members), before)

        maven_dir = f"java/{JAVA_PATH}/{MAVEN_ARTIFACT}/{self.version}"
        base = f"{MAVEN_ARTIFACT}-{self.version}"
        meta = f"META-INF/maven/{MAVEN_GROUP}/{MAVEN_ARTIFACT}"
        jars = {
            "Maven jar": (f"{base}.jar", [f"{JAVA_PATH}/**.class", "META-INF/INDEX.LIST"]),
            "Maven sources": (f"{base}-sources.jar", [f"{JAVA_PATH}/**.java"]),
        }
        for kind, (name, code) in jars.items():
            path = self.find(f"{maven_dir}/{name}")
            if not path:
                continue
            before, where = len(self.problems), os.path.relpath(path, self.dist)
            with zipfile.ZipFile(path) as jar:
                names = [n for n in jar.namelist() if not n.endswith("/")]
                self.strays(where, outside(names, code + [
                    "META-INF/MANIFEST.MF", f"{meta}/{{pom.xml,pom.properties}}", f"{JAVA_PATH}/$Module.txt", f"{JAVA_PATH}/{self.tgz}",
                ]))
                if f"{JAVA_PATH}/{self.tgz}" in names:
                    self.check_embedded(where, jar.read(f"{JAVA_PATH}/{self.tgz}"))
                else:
                    self.fail(where, f"lacks {JAVA_PATH}/{self.tgz}")
                if f"{meta}/pom.xml" in names:
                    self.check_pom(f"{where} pom.xml", jar.read(f"{meta}/pom.xml"))
                else:
                    self.fail(where, f"lacks {meta}/pom.xml")
            self.report(kind, path, len(names), before)

        path = self.find(f"{maven_dir}/{base}-javadoc.jar")
        if path:
            before, where = len(self.problems), os.path.relpath(path, self.dist)
            with zipfile.ZipFile(path) as jar:
                names = [n for n in jar.namelist() if not n.endswith("/")]
                # Whatever the JDK's javadoc writes, and nothing of ours but the docs.
                self.strays(where, outside(names, ["META-INF/MANIFEST.MF", "**.{html,js,css,png,svg,md}", "element-list", "legal/*"]))
            self.report("Maven javadoc", path, len(names), before)

        path = self.find(f"{maven_dir}/{base}.pom")
        if path:
            before = len(self.problems)
            with open(path, "rb") as f:
                self.check_pom(os.path.relpath(path, self.dist), f.read())
            self.report("Maven POM", path, 1, before)

        path = self.find(f"go/{GO_DIR}")
        if path:
            before, where = len(self.problems), os.path.relpath(path, self.dist)
            names = sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs)
            embedded = f"jsii/{NPM_NAME}-{self.version}.tgz"
            self.strays(where, outside(names, ["go.mod", "go.sum", "**.go", embedded, "README.md", "LICENSE", "NOTICE", "version"]))
            if embedded in names:
                with open(os.path.join(path, embedded), "rb") as f:
                    self.check_embedded(where, f.read())
            else:
                self.fail(where, f"lacks {embedded}")
            requires = {}
            if "go.mod" in names:
                with open(os.path.join(path, "go.mod")) as f:
                    for module, version in re.findall(r"^\s*(?:require\s+)?(\S+)\s+(v\S+)", f.read(), re.M):
                        requires[module] = version
            # Go states minimums only; minimal version selection makes the floor the default.
            for dep, module in GO_MODULES.items():
                if requires.get(module) != f"v{RANGES[dep][0]}":
                    self.fail(f"{where}/go.mod", f"requires {module} {requires.get(module)}, want v{RANGES[dep][0]}")
            self.report("Go module", path, len(names), before)

        if self.problems:
            print(f"\n{len(self.problems)} problem(s) in the packages:", file=sys.stderr)
            for problem in self.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print("every package holds only allow-listed files, carries the handler bundle and declares the supported ranges")
        return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(Checker(os.path.abspath(sys.argv[1])).run())
