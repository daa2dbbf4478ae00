// args: {path: "<directory>", top: <number of files to return>} (both optional)
const counted = tools.grep.count({ pattern: "\\b(TODO|FIXME)\\b", path: args.path ?? "/data" });
const files = Object.entries(counted.counts)
  .filter(([, count]) => count > 0)
  .map(([path, count]) => ({ path, count }))
  .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
return { total: counted.total, top: files.slice(0, args.top ?? 5) };
