// metrics.csv: every stored point of a run, raw. Numbers are written in JavaScript's shortest
// round-trip form, so parsing the file gives back exactly the stored doubles.
import type { MetricPoint } from '../../api/contract';

export const METRICS_CSV_HEADER = 'name,step,epoch,value,wall_time';

function quote(field: string): string {
  return /[",\n\r]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function metricsToCsv(points: Iterable<MetricPoint>): string {
  const lines = [METRICS_CSV_HEADER];
  for (const p of points) lines.push(`${quote(p.name)},${p.step},${p.epoch},${p.value},${p.wallTime}`);
  return `${lines.join('\n')}\n`;
}

/** Splits one CSV line into fields (RFC 4180 quoting). */
function splitLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      fields.push(value);
      i++; // the comma
    } else {
      const end = line.indexOf(',', i);
      const stop = end === -1 ? line.length : end;
      fields.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return fields;
}

export function csvToMetrics(text: string): MetricPoint[] {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines[0] !== METRICS_CSV_HEADER)
    throw new Error(`metrics.csv: expected the header '${METRICS_CSV_HEADER}', got '${lines[0] ?? ''}'`);
  return lines.slice(1).map((line, i) => {
    const fields = splitLine(line);
    if (fields.length !== 5) throw new Error(`metrics.csv line ${i + 2}: expected 5 fields, got ${fields.length}`);
    const [name, step, epoch, value, wallTime] = fields;
    const point = { name, step: Number(step), epoch: Number(epoch), value: Number(value), wallTime: Number(wallTime) };
    if (
      !name ||
      !Number.isSafeInteger(point.step) ||
      !Number.isSafeInteger(point.epoch) ||
      !Number.isFinite(point.value) ||
      !Number.isFinite(point.wallTime)
    ) {
      throw new Error(`metrics.csv line ${i + 2}: not a valid point: ${line}`);
    }
    return point;
  });
}
