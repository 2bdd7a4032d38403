"""Adds the problem-detail error responses every operation can give to the OpenAPI schema."""

PROBLEM_COMPONENT = "ProblemDetails"  # RFC 9457; not the service desk's problem records
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    "400": "Invalid input",
    "401": "Not authenticated",
    "403": "Permission denied",
    "404": "Not found",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Conflict: the record changed since you read it",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "428": "Precondition required: send If-Match or version",
    "429": "Too many requests",
}


def add_problem_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if PROBLEM_COMPONENT in schemas:
        raise ValueError(f"A serializer is named {PROBLEM_COMPONENT!r}, as the error format is; rename it.")
    schemas[PROBLEM_COMPONENT] = PROBLEM_SCHEMA
    reference = {"$ref": f"#/components/schemas/{PROBLEM_COMPONENT}"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result
