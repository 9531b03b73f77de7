"""Resolve AWS credentials and the region with botocore, the oracle of credentials_provider_test.

Run by the C++ test with exactly the environment of one scenario (HOME, AWS_CONFIG_FILE,
AWS_SHARED_CREDENTIALS_FILE and the endpoint variables all pointing at temporary files and
loopback fakes). Prints one JSON object: botocore's version, the provider's method name, the access
key id, the expiry (seconds since the epoch, or null), the region (or null), or `error` when
botocore raised or found nothing. Exit status 77 when botocore cannot be imported, 78 when it is
older than 1.31: those ignore AWS_ENDPOINT_URL_STS and would call the real STS.

Usage: botocore_credentials.py [PROFILE]   (a profile named here is like `aws --profile`)
"""
import json
import os
import sys

try:
    import botocore
    import botocore.session
    import botocore.utils
except ImportError:
    sys.exit(77)


def region_of(session):
    region = session.get_config_variable("region")
    if region:
        return region
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true":
        return None
    # What botocore's IMDSRegionProvider does when a client needs a region (IMDSv2 only, as ours).
    fetcher = botocore.utils.InstanceMetadataRegionFetcher(
        timeout=1,
        num_attempts=1,
        env=dict(os.environ),
        config={
            "ec2_metadata_service_endpoint": os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            "ec2_metadata_v1_disabled": True,
        },
    )
    return fetcher.retrieve_region()


def main():
    version = tuple(int(p) for p in botocore.__version__.split(".")[:2])
    if version < (1, 31):
        print(json.dumps({"botocore": botocore.__version__}))
        sys.exit(78)
    profile = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    session = botocore.session.Session(profile=profile)
    out = {"botocore": botocore.__version__}
    try:
        creds = session.get_credentials()
        if creds is None:
            out["error"] = "no credentials"
        else:
            frozen = creds.get_frozen_credentials()
            out["method"] = creds.method
            out["access_key"] = frozen.access_key
            out["token"] = frozen.token
            expiry = getattr(creds, "_expiry_time", None)
            out["expiry"] = int(expiry.timestamp()) if expiry is not None else None
    except Exception as e:  # the test only needs to know that botocore failed, and why
        out["error"] = f"{type(e).__name__}: {e}"
    try:
        out["region"] = region_of(session)
    except Exception as e:
        out["region"] = None
        out["region_error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
