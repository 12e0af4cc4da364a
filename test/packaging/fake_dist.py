"""Writes a tiny fake repository root with a dist/ as `npx projen package-all` lays it out, for
the tests of check_packages.py (check-packages.test.ts). Clean by default; options spoil it.

Usage: python3 fake_dist.py ROOT [--stray ARTIFACT:PATH]... [--maven-cdk VERSION] [--big]
  --stray npm:PATH     add PATH to the npm tarball (so to the copy every other package embeds)
  --stray wheel:PATH   add PATH to the wheel itself, outside the embedded tarball
  --maven-cdk VERSION  the POMs depend on aws-cdk-lib VERSION instead of the range
  --big                the npm tarball (and every package) grows past 1 MB
"""
import argparse
import io
import json
import os
import tarfile
import zipfile

VERSION = "0.0.0"
ASSET = "assets/runtime/session-manager.lambda/index.js"
BUNDLE = b"exports.handler = async () => {};\n"
TGZ = f"cdk-fargate-traffic-mirror@{VERSION}.jsii.tgz"
MOD = "cdk_fargate_traffic_mirror"
JAVA = "io/github/cdkfargatetrafficmirror"
META = "META-INF/maven/io.github.cdkfargatetrafficmirror/cdk-fargate-traffic-mirror"


def targz(files, prefix=""):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zipped(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def pom(cdk_version):
    deps = [("software.amazon.awscdk", "aws-cdk-lib", cdk_version), ("software.constructs", "constructs", "[10.3.0,11.0.0)"),
            ("software.amazon.jsii", "jsii-runtime", "[1.140.0,2.0.0)")]
    body = "".join(f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>" for g, a, v in deps)
    return f'<project xmlns="http://maven.apache.org/POM/4.0.0"><dependencies>{body}</dependencies></project>'


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--stray", action="append", default=[])
    parser.add_argument("--maven-cdk", default="[2.170.0,3.0.0)")
    parser.add_argument("--big", action="store_true")
    args = parser.parse_args()
    strays = {}
    for spec in args.stray:
        artifact, path = spec.split(":", 1)
        strays.setdefault(artifact, {})[path] = b"stray\n"

    root, dist = args.root, os.path.join(args.root, "dist")
    write(os.path.join(root, "package.json"), json.dumps({"name": "cdk-fargate-traffic-mirror", "version": VERSION}))
    write(os.path.join(root, ASSET), BUNDLE)
    write(os.path.join(root, "src/index.ts"), "export {};\n")

    manifest = {"name": "cdk-fargate-traffic-mirror", "version": VERSION,
                "peerDependencies": {"aws-cdk-lib": "^2.170.0", "constructs": "^10.3.0"}}
    npm = targz({
        "package.json": json.dumps(manifest).encode(), ".jsii": b"{}", "lib/index.js": b"", "lib/index.d.ts": b"",
        ASSET: BUNDLE, "README.md": b"# fake\n", "LICENSE": b"Apache-2.0\n",
        # The capture agent's image sources, as the real package carries them.
        "capture-agent/Dockerfile": b"FROM scratch\n", "capture-agent/go.mod": b"module x\n",
        "capture-agent/cmd/capture-agent/main.go": b"package main\n", "capture-agent/internal/vxlan/vxlan.go": b"package vxlan\n",
        # Random bytes do not compress: the tarball and everything that embeds it pass 1 MB.
        **({".jsii.tabl.json": os.urandom(1_100_000)} if args.big else {}),
        **strays.get("npm", {}),
    }, prefix="package/")
    write(os.path.join(dist, "js", TGZ), npm)

    requires = ["aws-cdk-lib<3.0.0,>=2.170.0", "constructs<11.0.0,>=10.3.0", "jsii<2.0.0,>=1.140.0"]
    info = f"{MOD}-{VERSION}.dist-info"
    write(os.path.join(dist, "python", f"{MOD}-{VERSION}-py3-none-any.whl"), zipped({
        f"{MOD}/__init__.py": b"", f"{MOD}/py.typed": b"", f"{MOD}/_jsii/__init__.py": b"", f"{MOD}/_jsii/{TGZ}": npm,
        f"{info}/METADATA": "".join(f"Requires-Dist: {r}\n" for r in requires).encode(),
        f"{info}/WHEEL": b"", f"{info}/RECORD": b"", f"{info}/top_level.txt": MOD.encode(),
        **strays.get("wheel", {}),
    }))
    setup = 'import json\nkwargs = json.loads(\n    """\n' + json.dumps({"install_requires": requires}) + '\n"""\n)\n'
    write(os.path.join(dist, "python", f"{MOD}-{VERSION}.tar.gz"), targz({
        "PKG-INFO": "".join(f"Requires-Dist: {r}\n" for r in requires).encode(), "setup.py": setup.encode(),
        f"src/{MOD}/__init__.py": b"", f"src/{MOD}/_jsii/__init__.py": b"", f"src/{MOD}/_jsii/{TGZ}": npm,
    }, prefix=f"{MOD}-{VERSION}/"))

    maven = os.path.join(dist, "java", JAVA, "cdk-fargate-traffic-mirror", VERSION)
    base = os.path.join(maven, f"cdk-fargate-traffic-mirror-{VERSION}")
    for suffix, code in [("", f"{JAVA}/FargateTrafficMirror.class"), ("-sources", f"{JAVA}/FargateTrafficMirror.java")]:
        write(f"{base}{suffix}.jar", zipped({
            "META-INF/MANIFEST.MF": b"", f"{META}/pom.xml": pom(args.maven_cdk).encode(), code: b"", f"{JAVA}/{TGZ}": npm,
        }))
    write(f"{base}-javadoc.jar", zipped({"META-INF/MANIFEST.MF": b"", "index.html": b"<html></html>"}))
    write(f"{base}.pom", pom(args.maven_cdk))

    go = os.path.join(dist, "go", "cdkfargatetrafficmirror")
    write(os.path.join(go, "go.mod"), "module example.com/cdkfargatetrafficmirror\n\nrequire (\n"
          "\tgithub.com/aws/aws-cdk-go/awscdk/v2 v2.170.0\n\tgithub.com/aws/constructs-go/constructs/v10 v10.3.0\n)\n")
    write(os.path.join(go, "main.go"), "package cdkfargatetrafficmirror\n")
    write(os.path.join(go, "jsii", f"cdk-fargate-traffic-mirror-{VERSION}.tgz"), npm)


if __name__ == "__main__":
    main()
