"""The /api/ documentation page's content, read from the OpenAPI document so that the page cannot drift from it."""

import json


def schema_summary(schema):
    """One line a reader can act on: 'integer ≥ 1, default 100', 'one of: day, week, month, year', 'list of string'."""
    if not schema:
        return ""
    if "enum" in schema:
        return "one of: " + ", ".join(str(value) for value in schema["enum"])
    kind = schema.get("type", "")
    if kind == "array":
        kind = f"list of {schema_summary(schema.get('items', {}))}"
    parts = [kind] if kind else []
    if "format" in schema:
        parts.append(schema["format"])
    if "minimum" in schema:
        parts.append(f"≥ {schema['minimum']}")
    if "maximum" in schema:
        parts.append(f"≤ {schema['maximum']}")
    if "default" in schema:
        parts.append(f"default {json.dumps(schema['default'])}")
    if "pattern" in schema:
        parts.append(f"pattern {schema['pattern']}")
    return ", ".join(parts)


def operations(document):
    """[{method, path, url, summary, description, parameters: [{name, schema, description}], responses}]."""
    server = document.get("servers", [{}])[0].get("url", "")
    found = []
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            found.append(
                {
                    "id": operation.get("operationId", path),
                    "method": method.upper(),
                    "path": path,
                    "url": server + path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "schema": schema_summary(parameter.get("schema")),
                            "description": parameter.get("description", ""),
                            "repeatable": parameter.get("schema", {}).get("type") == "array",
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                    "responses": [
                        {
                            "code": code,
                            "description": response.get("description", ""),
                            "types": list(response.get("content", {})),
                        }
                        for code, response in operation.get("responses", {}).items()
                    ],
                }
            )
    return found
