// Validates every object of rendered manifests (multi-document YAML on
// stdin or in the files given) against the Kubernetes, prometheus-operator
// and cert-manager OpenAPI schemas, offline. Exit 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/")
    ? apiVersion.split("/")
    : ["", apiVersion];
  const crdPackages = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
    "cert-manager.io": "@kubernetes-models/cert-manager",
  };
  const candidates = crdPackages[group]
      ? [`${crdPackages[group]}/${group}/${version}`]
      : [
          group === ""
            ? `kubernetes-models/${version}`
            : `kubernetes-models/${group}/${version}`,
        ];
  for (const path of candidates) {
    try {
      const mod = await import(path);
      if (mod[kind]) return mod[kind];
    } catch {
      // try the next location
    }
  }
  return undefined;
}

const inputs = process.argv.slice(2);
const texts = inputs.length
  ? inputs.map((f) => [f, readFileSync(f, "utf8")])
  : [["<stdin>", readFileSync(0, "utf8")]];
let errors = 0;
let checked = 0;
for (const [file, text] of texts) {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      console.error(`${file}: YAML: ${doc.errors[0].message}`);
      errors++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      console.error(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
      errors++;
      continue;
    }
    try {
      new Model(obj).validate();
      checked++;
    } catch (e) {
      console.error(`${where}: ${e.message}`);
      errors++;
    }
  }
}
console.log(`validated ${checked} objects, ${errors} errors`);
process.exit(errors ? 1 : 0);
