# args: {"path": "<csv file>", "column": "amount", "group_by": "region"} (all optional)
result = tools.csv.aggregate(
    path=args.get("path", "/data/sales.csv"),
    group_by=args.get("group_by", "region"),
    column=args.get("column", "amount"),
    ops=["sum", "mean", "count"],
    order_by="sum",
    descending=True,
)
[{"region": g["group"], "total": g["sum"], "mean": g["mean"], "rows": g["count"]} for g in result["results"]]
