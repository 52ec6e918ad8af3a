"""Who may do what to a bucket and its objects: OBS's access control between accounts.

A bucket belongs to the account (domain) that created it. Its owner's users may do anything to
it, except a read-only user (role auditor), whose writes are refused everywhere. Another
account's users, and anonymous callers, may do only what the bucket's policy or an ACL grants
them; anything else is OBS's AccessDenied (403). An explicit Deny in the bucket policy binds
the owner's users as well, except for the policy operations themselves (the owner can always
mend the policy that locked it out).

moto's S3 backend keeps the policies and ACLs (it parses ACL bodies, grant headers and canned
ACLs), but it evaluates neither for a signed caller, and its policy evaluator does not match
principals, so they are evaluated here:
- a policy statement's Principal/NotPrincipal in OBS's form (``{"ID": ["domain/<domain
  id>:user/*"]}``, ``domain/<id>:user/<user id or name>``) or S3's (``{"AWS":
  "arn:aws:iam::<domain id>:root"}``, or the bare domain id), or ``*``;
- its Action/NotAction as OBS names them (``GetObject``, case-insensitive, ``*`` and ``?``
  wildcards) or with S3's ``s3:`` prefix; its Resource/NotResource as ``bucket`` or
  ``bucket/key`` patterns, or S3 ARNs;
- a statement with a Condition is not evaluated (left out): an Allow under a condition grants
  nothing, a Deny under one denies (a simulator choice: it fails closed).
- ACL grants to a domain id (CanonicalUser), to everyone (AllUsers) and to every signed caller
  (AuthenticatedUsers), with S3's meaning of READ, WRITE, READ_ACP, WRITE_ACP and FULL_CONTROL
  on buckets and objects.
An object belongs to its bucket's owner, whoever uploaded it (left out: OBS's object
ownership by the uploader).
"""

from __future__ import annotations

import fnmatch
from urllib.parse import parse_qs, unquote, urlparse

import orjson

from simulator.obs import backend

OWNER = "modelarts_sim_owner"  # the attribute of moto's bucket naming its owning domain
READS = ("GET", "HEAD", "OPTIONS")

# a bucket's subresource -> the name its Get/Put/Delete actions end in
_BUCKET_SUBRESOURCES = {
    "acl": "BucketAcl", "policy": "BucketPolicy", "tagging": "BucketTagging",
    "versioning": "BucketVersioning", "lifecycle": "LifecycleConfiguration",
    "cors": "BucketCORS", "logging": "BucketLogging", "website": "BucketWebsite",
    "notification": "BucketNotification", "location": "BucketLocation",
    "replication": "ReplicationConfiguration", "encryption": "EncryptionConfiguration",
    "storageClass": "BucketStoragePolicy", "storagePolicy": "BucketStoragePolicy",
    "quota": "BucketQuota", "requestPayment": "BucketRequestPayment",
    "object-lock": "BucketObjectLockConfiguration", "ownershipControls": "BucketOwnershipControls",
    "publicAccessBlock": "BucketPublicAccessBlock", "accelerate": "AccelerateConfiguration",
    "inventory": "InventoryConfiguration", "metrics": "MetricsConfiguration",
    "analytics": "AnalyticsConfiguration", "intelligent-tiering": "IntelligentTieringConfiguration",
}
_POLICY_ACTIONS = {"getbucketpolicy", "putbucketpolicy", "deletebucketpolicy"}
# which ACL permission grants an action, on the bucket's ACL or on the object's
_BUCKET_ACL = {"listbucket": "READ", "listbucketversions": "READ", "headbucket": "READ",
               "listbucketmultipartuploads": "READ", "listmultipartuploadparts": "READ",
               "putobject": "WRITE", "deleteobject": "WRITE", "deleteobjectversion": "WRITE",
               "abortmultipartupload": "WRITE", "getbucketacl": "READ_ACP",
               "putbucketacl": "WRITE_ACP"}
_OBJECT_ACL = {"getobject": "READ", "getobjectversion": "READ", "getobjectacl": "READ_ACP",
               "getobjectversionacl": "READ_ACP", "putobjectacl": "WRITE_ACP",
               "putobjectversionacl": "WRITE_ACP"}
_ALIASES = {"headbucket": ("headbucket", "listbucket")}  # S3 grants HEAD with ListBucket
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
MALFORMED_XML = ("MalformedXML", "The XML you provided was not well-formed or did not validate "
                 "against our published schema.", 400)
MALFORMED_POLICY = ("MalformedPolicy", "The bucket policy is not valid JSON with a list of "
                    "statements, or is larger than 20 KB.", 400)
POLICY_MAX_BYTES = 20 * 1024  # OBS's limit on a bucket policy


class Denied(Exception):
    """The request is refused: OBS's AccessDenied, unless said."""

    def __init__(self, code: str = "AccessDenied", message: str = "Access Denied",
                 status: int = 403):
        super().__init__(code, message, status)
        self.code, self.message, self.status = code, message, status


TAKEN = ("BucketAlreadyExists", "The requested bucket name is not available. The bucket "
         "namespace is shared by all users of the system. Please select a different name and "
         "try again.", 409)


def owner_of(sim, bucket) -> str:
    """The domain id owning a bucket of moto's; a bucket the simulator made itself
    (obs_buckets, /_sim/objects, the generator's) belongs to the default account."""
    return getattr(bucket, OWNER, None) or sim.directory.default_user().domain.id


def bucket_owner(sim, name: str) -> str | None:
    """The domain id owning the simulator's bucket of that name; None when there is none."""
    bucket = backend.store(sim.obs_account).buckets.get(name)
    return owner_of(sim, bucket) if bucket is not None else None


def set_owner(bucket, domain_id: str | None) -> None:
    setattr(bucket, OWNER, domain_id)


def actions(method: str, key: str | None, params: dict, headers: dict,
            body: bytes = b"") -> list[tuple[str, str | None]]:
    """(action, key or None) of every permission a request needs on its bucket; a copy's
    source is asked for by check(). Bucket creation and listing are not here: anyone may try
    to take a free name, and a listing shows only the caller's own buckets."""
    if key is None:
        # every subresource named is asked for: moto's precedence among them is its own
        subs = [_BUCKET_SUBRESOURCES[s] for s in _BUCKET_SUBRESOURCES if s in params]
        if method == "GET":
            found = [("Get" + sub, None) for sub in subs]
            if "versions" in params:
                found.append(("ListBucketVersions", None))
            if "uploads" in params:
                found.append(("ListBucketMultipartUploads", None))
            return found or [("ListBucket", None)]
        if method == "HEAD":
            return [("HeadBucket", None)]
        if method == "PUT":  # none of them: a create, which check() decides
            return [("Put" + sub, None) for sub in subs]
        if method == "DELETE":  # one moto does not know deletes the bucket itself
            return [("Delete" + sub, None) for sub in subs] + (
                [("DeleteBucket", None)] if len(subs) < len(params) or not subs else [])
        if method == "POST" and "delete" in params:  # every key the batch names
            return [("DeleteObject", k) for k in batch_keys(body)]
        if method == "POST":  # a browser form upload: its key is in the form
            return [("PutObject", "*")]
        return []
    version = "versionId" in params
    found = []  # every subresource named is asked for, whichever moto takes
    if method in ("GET", "HEAD"):
        if "acl" in params:
            found.append(("GetObjectVersionAcl" if version else "GetObjectAcl", key))
        if "tagging" in params:
            found.append(("GetObjectTagging", key))
        if "uploadId" in params:
            found.append(("ListMultipartUploadParts", key))
        return found + [("GetObjectVersion" if version else "GetObject", key)]
    if method == "PUT":
        if "acl" in params:
            found.append(("PutObjectVersionAcl" if version else "PutObjectAcl", key))
        if "tagging" in params:
            found.append(("PutObjectTagging", key))
        return found + [("PutObject", key)]
    if method == "DELETE":
        if "uploadId" in params:
            found.append(("AbortMultipartUpload", key))
        if "tagging" in params:
            found.append(("DeleteObjectTagging", key))
        return found + [("DeleteObjectVersion" if version else "DeleteObject", key)]
    if method == "POST":
        if "select" in params:  # SelectObjectContent reads the object
            found.append(("GetObject", key))
        if "restore" in params:
            found.append(("RestoreObject", key))
        return found + [("PutObject", key)] if not found else found
    return [("PutObject", key)] if method not in READS else [("GetObject", key)]


def batch_keys(body: bytes) -> list[str]:
    """The keys a batch delete names, read as moto reads them (xmltodict); Denied
    (MalformedXML) when the body is not such a list."""
    import xmltodict
    try:
        objects = xmltodict.parse(body, strip_whitespace=False)["Delete"].get("Object", [])
        objects = objects if isinstance(objects, list) else [objects]
        keys = [o["Key"] for o in objects]
    except Exception as exc:  # expat's errors, a missing element, a text where a table is
        raise Denied(*MALFORMED_XML) from exc
    if not keys or not all(isinstance(k, str) for k in keys):
        raise Denied(*MALFORMED_XML)
    return keys


def check_policy(body: bytes) -> None:
    """A policy moto will store: Denied (MalformedPolicy) unless it is a JSON object with a
    Statement (one object or a list of them) within OBS's size limit."""
    if len(body) > POLICY_MAX_BYTES:
        raise Denied(*MALFORMED_POLICY)
    try:
        statements = orjson.loads(body).get("Statement")
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise Denied(*MALFORMED_POLICY) from exc
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements or \
            not all(isinstance(st, dict) for st in statements):
        raise Denied(*MALFORMED_POLICY)


def check(sim, user, method: str, bucket_name: str, key: str | None, params: dict,
          headers: dict, body: bytes = b"") -> None:
    """Denied unless the caller (a User, or None when anonymous) may make this request."""
    if method == "OPTIONS":  # a CORS preflight carries no credentials
        return
    if user is not None and not user.can_write and method not in READS:
        raise Denied()  # a read-only user writes nothing, in its own buckets either
    if not bucket_name:
        if user is None:
            raise Denied()  # listing buckets needs a caller
        return
    buckets = backend.store(sim.obs_account).buckets
    bucket = buckets.get(bucket_name)
    wanted = actions(method, key, params, headers, body)
    if key is None and method == "PUT" and not wanted:  # a create, whatever else it names
        if user is None:
            raise Denied()  # a bucket is an account's: an anonymous caller has none
        if bucket is not None and owner_of(sim, bucket) != user.domain.id:
            raise Denied(*TAKEN)  # moto holds every account's buckets in one of its own
    if bucket is not None:
        for action, on_key in wanted:
            if not allowed(sim, user, bucket, action, on_key, params.get("versionId")):
                raise Denied()
    if key is None and method == "PUT" and "policy" in params:
        check_policy(body)
    source = headers.get("x-amz-copy-source") or headers.get("x-obs-copy-source")
    if source and method == "PUT" and key is not None:
        parsed = urlparse(source)  # as moto reads it
        source_bucket, _, source_key = unquote(parsed.path).lstrip("/").partition("/")
        version = parse_qs(parsed.query).get("versionId", [None])[0]
        found = buckets.get(source_bucket)
        if found is None:
            raise Denied()  # moto would look further; nothing unchecked is read
        if not allowed(sim, user, found, "GetObjectVersion" if version else "GetObject",
                       source_key, version):
            raise Denied()


def allowed(sim, user, bucket, action: str, key: str | None, version: str | None = None) -> bool:
    lowered = action.lower()
    mine = user is not None and user.domain.id == owner_of(sim, bucket)
    decision = _policy(bucket.policy, user, lowered, bucket.name, key)
    if decision == "deny" and not (mine and lowered in _POLICY_ACTIONS):
        return False
    return mine or decision == "allow" or _acl_grants(bucket, user, lowered, key, version)


def own_buckets(sim, user) -> set[str]:
    """The names of the buckets the caller's account owns."""
    if user is None:
        return set()
    return {name for name, bucket in backend.store(sim.obs_account).buckets.items()
            if owner_of(sim, bucket) == user.domain.id}


# -- bucket policies -----------------------------------------------------------------------

def _policy(raw: bytes | None, user, action: str, bucket: str, key: str | None) -> str | None:
    """"deny", "allow" or None (no statement applies) for one action."""
    if not raw:
        return None
    try:
        statements = orjson.loads(raw).get("Statement", [])
    except (orjson.JSONDecodeError, AttributeError):
        return None  # moto stores what it was given; a policy nothing can read grants nothing
    if isinstance(statements, dict):
        statements = [statements]
    resource = bucket if key is None else "%s/%s" % (bucket, key)
    decision = None
    for statement in statements if isinstance(statements, list) else ():
        if not isinstance(statement, dict) or not _applies(statement, user, action, resource):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "deny"
        if effect == "Allow" and "Condition" not in statement:
            decision = "allow"
    return decision


def _applies(statement: dict, user, action: str, resource: str) -> bool:
    if "Principal" in statement:
        if not _names(statement["Principal"], user):
            return False
    elif "NotPrincipal" in statement:
        if _names(statement["NotPrincipal"], user):
            return False
    else:
        return False  # a bucket policy statement names who it is for
    names = _ALIASES.get(action, (action,))
    if "Action" in statement:
        if not any(_matches(_values(statement["Action"]), n, _action) for n in names):
            return False
    elif "NotAction" in statement:
        if any(_matches(_values(statement["NotAction"]), n, _action) for n in names):
            return False
    else:
        return False
    if "Resource" in statement:
        return _matches(_values(statement["Resource"]), resource, _resource)
    if "NotResource" in statement:
        return not _matches(_values(statement["NotResource"]), resource, _resource)
    return False


def _names(principal, user) -> bool:
    """Whether a Principal element names the caller."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    ids = _values(principal.get("ID", [])) + _values(principal.get("AWS", []))
    if "*" in ids:
        return True
    if user is None:
        return False
    domain = user.domain.id
    mine = {domain, "arn:aws:iam::%s:root" % domain, "domain/%s:user/*" % domain}
    for who in (user.id, user.name):
        mine |= {"domain/%s:user/%s" % (domain, who), "arn:aws:iam::%s:user/%s" % (domain, who)}
    return any(i in mine for i in ids)


def _values(element) -> list[str]:
    if isinstance(element, str):
        return [element]
    if isinstance(element, list):
        return [v for v in element if isinstance(v, str)]
    return []


def _action(pattern: str) -> str:
    lowered = pattern.lower()
    for prefix in ("s3:", "obs:bucket:", "obs:object:", "obs:"):
        if lowered.startswith(prefix):
            return lowered[len(prefix):]
    return lowered


def _resource(pattern: str) -> str:
    for prefix in ("arn:aws:s3:::", "obs:*:*:bucket:", "obs:*:*:object:"):
        if pattern.startswith(prefix):
            return pattern[len(prefix):]
    return pattern


def _matches(patterns: list[str], value: str, norm) -> bool:
    # fnmatchcase, not moto's regular expressions: a pattern's "." or "(" is itself
    return any(fnmatch.fnmatchcase(value, norm(p).replace("[", "[[]")) for p in patterns)


# -- ACLs ----------------------------------------------------------------------------------

def _acl_grants(bucket, user, action: str, key: str | None, version: str | None) -> bool:
    if action in _BUCKET_ACL:
        acl, needed = bucket.acl, _BUCKET_ACL[action]
    elif action in _OBJECT_ACL and key:
        found = bucket.keys.getlist(key, None) if key in bucket.keys else None
        if found and version is not None:  # that version's own ACL, not the newest one's
            found = [v for v in found if str(getattr(v, "version_id", None)) == version]
        acl, needed = (getattr(found[-1], "acl", None) if found else None), _OBJECT_ACL[action]
    else:
        return False
    for grant in getattr(acl, "grants", None) or ():
        if needed not in grant.permissions and "FULL_CONTROL" not in grant.permissions:
            continue
        for grantee in grant.grantees:
            if grantee.uri == _ALL_USERS or (grantee.uri == _AUTHENTICATED and user is not None):
                return True
            if user is not None and grantee.id and grantee.id == user.domain.id:
                return True
    return False
