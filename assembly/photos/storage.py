"""Where photo files live: a folder under the instance folder, or a bucket of an S3-compatible
store (setting PHOTO_STORAGE; docs/operations.md). Keys are random names the database holds
(`Photo.storage_key`); nothing a person typed is ever part of a file name or an object key."""
from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app

KEY = re.compile(r"^[0-9a-f]{32}(-thumb)?\.jpg$")
PARTIAL = re.compile(r"^[0-9a-f]{32}(-thumb)?\.part$")  # a local file being written (or left by a crash)


class PhotoStoreError(RuntimeError):
    """The store refused or could not be reached."""


class LocalStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        if not (KEY.match(key) or PARTIAL.match(key)):
            raise ValueError(f"not a photo key: {key!r}")
        return self.folder / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every photo file (and unfinished `.part` file) with the time it was last written."""
        if not self.folder.is_dir():
            return
        for folder in sorted(self.folder.iterdir()):
            if not folder.is_dir() or len(folder.name) != 2:
                continue
            for path in sorted(folder.iterdir()):
                if (KEY.match(path.name) or PARTIAL.match(path.name)) and path.name.startswith(folder.name):
                    try:
                        modified = path.stat().st_mtime
                    except FileNotFoundError:  # deleted meanwhile
                        continue
                    yield path.name, dt.datetime.fromtimestamp(modified, dt.timezone.utc)


class S3Store:
    """Any S3-compatible store (AWS S3, MinIO, Garage, Ceph …) through boto3."""

    def __init__(self, bucket: str, *, endpoint_url: str | None, region: str | None,
                 access_key_id: str | None, secret_access_key: str | None, prefix: str = "") -> None:
        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=20))

    def _key(self, key: str) -> str:
        if not KEY.match(key):
            raise ValueError(f"not a photo key: {key!r}")
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType="image/jpeg")
        except (BotoCoreError, ClientError) as error:
            raise PhotoStoreError(str(error)) from error

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise PhotoStoreError(str(error)) from error
        except BotoCoreError as error:
            raise PhotoStoreError(str(error)) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as error:
            raise PhotoStoreError(str(error)) from error

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every photo object under the prefix with the time it was stored."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix):]
                    if KEY.match(name):
                        yield name, item["LastModified"].astimezone(dt.timezone.utc)
        except (BotoCoreError, ClientError) as error:
            raise PhotoStoreError(str(error)) from error


def make_store(app: Flask):
    config = app.config
    if config["PHOTO_STORAGE"] == "s3":
        return S3Store(config["PHOTO_S3_BUCKET"], endpoint_url=config["PHOTO_S3_ENDPOINT_URL"],
                       region=config["PHOTO_S3_REGION"], access_key_id=config["PHOTO_S3_ACCESS_KEY_ID"],
                       secret_access_key=config["PHOTO_S3_SECRET_ACCESS_KEY"], prefix=config["PHOTO_S3_PREFIX"])
    folder = config["PHOTO_DIRECTORY"] or str(Path(app.instance_path) / "photos")
    return LocalStore(Path(folder))


def store():
    """The app's store, made once per app."""
    found = current_app.extensions.get("assembly_photo_store")
    if found is None:
        found = current_app.extensions["assembly_photo_store"] = make_store(current_app)
    return found
