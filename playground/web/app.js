// The page: every keystroke re-runs the engine (a few microseconds) and redraws the results.
import init, { examples, explain } from './imageswap_playground.js';

const $ = (id) => document.getElementById(id);

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render() {
  const answer = JSON.parse(explain($('map').value, $('digest').value, $('kinds').value, $('images').value,
    $('lookups').value, $('platforms').value));
  $('lookups-status').textContent = answer.lookupsError ?? '';
  const errors = $('errors');
  errors.replaceChildren();
  for (const error of answer.errors) {
    const item = document.createElement('li');
    item.textContent = error.message;
    if (error.line != null) item.dataset.line = error.line;
    errors.append(item);
  }
  $('status').textContent = answer.errors.length === 0
    ? 'The map is valid.'
    : `The policy refuses this map (${answer.errors.length} bad line${answer.errors.length > 1 ? 's' : ''}); fix it to see the images decided.`;
  $('status').className = answer.errors.length === 0 ? 'ok' : 'bad';
  const kindErrors = $('kind-errors');
  kindErrors.replaceChildren();
  for (const message of answer.kindErrors) {
    const item = document.createElement('li');
    item.textContent = message;
    kindErrors.append(item);
  }
  $('input-status').textContent = answer.inputError
    ? answer.inputError
    : answer.input === 'images' ? '' : `Images of the ${answer.input}:`;
  const body = $('results').tBodies[0];
  body.replaceChildren();
  for (const result of answer.results) {
    const row = body.insertRow();
    row.dataset.field = result.field ?? '';
    const image = cell(row, result.image, 'image');
    if (result.field) {
      const field = document.createElement('small');
      field.textContent = result.field;
      image.append(field);
    }
    if (result.error) {
      cell(row, result.error, 'error').colSpan = 3;
      continue;
    }
    cell(row, result.new ?? 'left as written', result.new ? 'new' : 'same');
    cell(row, result.line == null ? '' : String(result.line), 'line');
    // An ordered list of targets (checkTargetExists): the later ones, tried when the first is not
    // found; with recorded answers, what each lookup said.
    const later = (result.targets ?? []).slice(1);
    const looked = result.lookups ?? [];
    const fallback = looked.length ? ` (${looked.join('; ')})`
      : later.length ? ` (when not found: ${later.join(', then ')})` : '';
    cell(row, result.reason + fallback + (result.kept_digest ? ' (digest kept: pinned by digest only)' : ''), 'reason');
  }
}

await init();
const start = JSON.parse(examples());
for (const [index, example] of start.examples.entries()) {
  $('example').add(new Option(example.name, index));
}
$('example').addEventListener('change', () => {
  $('map').value = start.examples[$('example').value].map;
  render();
});
$('map').value = start.examples[0].map;
$('images').value = start.images;
for (const id of ['map', 'digest', 'kinds', 'images', 'lookups', 'platforms']) {
  $(id).addEventListener('input', render);
}
render();
document.body.dataset.ready = 'true';
