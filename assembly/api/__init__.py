"""Machine-readable access to cases: the JSON API for bodies (`v1`) and the public Open311
GeoReport v2 read endpoints (`open311`), described by one OpenAPI document (`openapi`)."""
