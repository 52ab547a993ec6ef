// The rules of RFC 7946 a GeoJSON file is checked against in the tests (an independent reading
// of the RFC, not the code under test): the closed set of types and their members, positions as
// [lon, lat(, alt)] numbers within range, LineStrings of two or more positions, a bbox that is
// [west, south, east, north] containing everything, no 'crs' (removed by §4).

const GEOMETRY_TYPES = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkRfc7946(doc: unknown): string[] {
  const problems: string[] = [];
  const positions: [number, number][] = [];
  const position = (p: unknown, where: string): void => {
    if (!Array.isArray(p) || p.length < 2 || p.length > 3 || !p.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      problems.push(`${where}: a position is 2 or 3 finite numbers (§3.1.1), got ${JSON.stringify(p)}`);
      return;
    }
    const [lon, lat] = p as number[];
    if (lon! < -180 || lon! > 180) problems.push(`${where}: longitude ${lon} out of [-180, 180]`);
    if (lat! < -90 || lat! > 90) problems.push(`${where}: latitude ${lat} out of [-90, 90]`);
    positions.push([lon!, lat!]);
  };
  const geometry = (g: unknown, where: string): void => {
    if (g === null) return;
    if (!isObject(g) || typeof g.type !== 'string' || !GEOMETRY_TYPES.has(g.type)) {
      problems.push(`${where}: not a geometry: ${JSON.stringify(g)?.slice(0, 80)}`);
      return;
    }
    const c = g.coordinates;
    switch (g.type) {
      case 'Point':
        position(c, where);
        break;
      case 'MultiPoint':
        if (!Array.isArray(c)) problems.push(`${where}: coordinates must be an array`);
        else c.forEach((p, i) => position(p, `${where}[${i}]`));
        break;
      case 'LineString':
        if (!Array.isArray(c) || c.length < 2) problems.push(`${where}: a LineString has two or more positions (§3.1.4)`);
        else c.forEach((p, i) => position(p, `${where}[${i}]`));
        break;
      case 'MultiLineString':
        if (!Array.isArray(c)) problems.push(`${where}: coordinates must be an array`);
        else
          c.forEach((l, j) => {
            if (!Array.isArray(l) || l.length < 2) problems.push(`${where}[${j}]: each line has two or more positions (§3.1.5)`);
            else l.forEach((p, i) => position(p, `${where}[${j}][${i}]`));
          });
        break;
      default:
        problems.push(`${where}: ${g.type} is not expected in a flight export`);
    }
  };
  if (!isObject(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features)) return ['not a FeatureCollection with a features array (§3.3)'];
  if ('crs' in doc) problems.push("'crs' is not part of RFC 7946 (§4)");
  doc.features.forEach((f, i) => {
    const where = `features[${i}]`;
    if (!isObject(f) || f.type !== 'Feature') return problems.push(`${where}: not a Feature (§3.2)`);
    if (!('geometry' in f)) problems.push(`${where}: a Feature has a geometry member (§3.2)`);
    if (!('properties' in f) || !(f.properties === null || isObject(f.properties))) problems.push(`${where}: properties is an object or null (§3.2)`);
    geometry(f.geometry, `${where}.geometry`);
    return undefined;
  });
  if (doc.bbox !== undefined) {
    const b = doc.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((n) => typeof n === 'number')) problems.push('bbox is [west, south, east, north] (§5)');
    else {
      const [w, s, e, n] = b as number[];
      if (s! > n!) problems.push('bbox: south above north');
      for (const [lon, lat] of positions) {
        const inLon = w! <= e! ? lon >= w! && lon <= e! : lon >= w! || lon <= e!;
        if (!inLon || lat < s! || lat > n!) {
          problems.push(`bbox does not contain ${lon},${lat}`);
          break;
        }
      }
    }
  }
  return problems;
}
