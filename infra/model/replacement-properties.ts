/**
 * The replacement table: for every resource type the program creates, the input properties whose
 * change makes its provider replace it (delete, then create), read from the provider's source at
 * the version the pinned Pulumi package bridges (the Terraform schema's `ForceNew` fields, the
 * plugin framework's `RequiresReplace` modifiers, pulumi-command's `replaceOnChanges` tags).
 * `test/replacement.test.ts` fails when a tier, domain or member change in a tenant file (or a
 * size in the platform settings) would change one of these on a volume, a database or a bucket,
 * and when the program creates a type the table does not list. Pure data: no Pulumi import.
 *
 * How to read an entry: a property listed in `replaceOnChange` replaces the resource when it
 * changes; one not listed is updated in place. For nested blocks the top-level property is
 * listed and the note says which nested fields force the replacement. Sources are paths in the
 * upstream repository at `PROVIDER_SOURCES[<package>].ref`.
 */

/** One provider's pinned source, cited by every entry read from it. */
export interface ProviderSource {
  pulumiPackage: string;
  upstream: string;
  ref: string;
}
export interface ReplacementEntry {
  /** Pulumi input property names (camelCase) whose change replaces the resource. For nested blocks, the top-level property, with a note. */
  replaceOnChange: readonly string[];
  /** true when the resource has no update at all: every input replaces it. */
  everyInputReplaces?: boolean;
  /** file path inside the upstream repository, at ProviderSource.ref */
  source: string;
  note?: string;
  verified: boolean;
}

export const PROVIDER_SOURCES: Readonly<Record<"docker" | "keycloak" | "aws" | "random" | "command", ProviderSource>> = {
  docker: {
    pulumiPackage: "@pulumi/docker@5.2.0",
    upstream: "kreuzwerker/terraform-provider-docker (the `upstream` git submodule of pulumi/pulumi-docker, go.mod replace => ../upstream)",
    ref:
      "v4.5.0 (commit 5074970c71ce6cc393c74942d5d628943834beb9). That is the submodule pin at pulumi-docker tag v5.1.0 and at the newest pulumi-docker snapshot commit 237b7899. " +
      "There is no v5.2.0 tag in the snapshot. The installed 5.2.0 SDK matches that commit's SDK except for one extra Container input, `deviceCgroupRules`, which does not exist in v4.5.0 " +
      "or in kreuzwerker master as of 2026-07-22 (83c00e0b). So 5.2.0 bridges a slightly newer kreuzwerker release. The four resource files read here did not change between v4.5.0 and 83c00e0b.",
  },
  keycloak: {
    pulumiPackage: "@pulumi/keycloak@6.13.0",
    upstream:
      "keycloak/terraform-provider-keycloak (the `upstream` git submodule of pulumi/pulumi-keycloak, go.mod replace => ../upstream)",
    ref: "v5.9.0 (commit f1724f757eb5f25d8263866776da8ecd8734831b, the submodule pin at pulumi-keycloak tag v6.13.0; the tag v5.9.0 points exactly at it)",
  },
  aws: {
    pulumiPackage: "@pulumi/aws@7.48.0",
    upstream: "hashicorp/terraform-provider-aws (v6.x line)",
    ref:
      "UNKNOWN. Not read: the pulumi/pulumi-aws snapshot (731 MB) and the hashicorp/terraform-provider-aws snapshot (932 MB) are over the 500 MB fetch limit. " +
      "The indexed pulumi-aws provider/go.mod is a stale v4/v6-era copy, and pulumi/terraform-provider-aws only goes up to v5.5.0. " +
      "The last upgrade PR found was #6392 (TF AWS v6.45.0 -> v6.46.0, 2026-05-22), and 7.48.0 is later. Entries below use whichever indexed upstream files could be read, with their commits cited.",
  },
  random: {
    pulumiPackage: "@pulumi/random@4.21.2",
    upstream: "hashicorp/terraform-provider-random (plugin framework; pulled in via pulumi-random provider/shim/go.mod)",
    ref:
      "v3.9.0 (commit f8d869dc98d90785f6c8f7131081fa5ef88f9d95 = pseudo-version v1.3.2-0.20260513075824-f8d869dc98d9 in pulumi-random provider/shim/go.mod). " +
      "That pin is the same at pulumi-random tag v4.21.1 and at the newest snapshot commit f64d8726. There is no v4.21.2 tag in the snapshot.",
  },
  command: {
    pulumiPackage: "@pulumi/command@1.2.1",
    upstream: "pulumi/pulumi-command (native Go provider built on pulumi-go-provider v1.3.0 `infer`; not bridged)",
    ref: "v1.2.1",
  },
};

/** By type token. */
export const REPLACEMENT_PROPERTIES: Readonly<Record<string, ReplacementEntry>> = {
  // ───────────────────────────── docker ─────────────────────────────
  "docker:index/volume:Volume": {
    replaceOnChange: ["name", "labels", "driver", "driverOpts", "cluster"],
    source: "internal/provider/resource_docker_volume.go",
    note:
      "name, labels, driver and driver_opts are all ForceNew: true. Changing any label (a quota label, for example) deletes and recreates the volume, and its data is lost unless it is backed up first. " +
      "The resource does have an Update, but it only handles cluster.availability. Every other cluster.* sub-field (scope, sharing, type, topology_preferred, topology_required, required_bytes, limit_bytes, group) is ForceNew. " +
      "`cluster` is listed for those sub-fields; changing only cluster.availability updates in place.",
    verified: true,
  },
  "docker:index/network:Network": {
    replaceOnChange: [
      "name",
      "labels",
      "driver",
      "options",
      "internal",
      "attachable",
      "ingress",
      "ipv6",
      "ipamDriver",
      "ipamOptions",
      "ipamConfigs",
    ],
    everyInputReplaces: true,
    source: "internal/provider/resource_docker_network.go",
    note: "The resource has no UpdateContext, and every input is ForceNew, including labels and each ipam_config sub-field (subnet, ip_range, gateway, aux_address).",
    verified: true,
  },
  "docker:index/image:Image": {
    replaceOnChange: [],
    source: "provider/provider.go (pulumi/pulumi-docker itself: Image is a native resource, not bridged)",
    note:
      "Read in pulumi/pulumi-docker at snapshot commit 237b7899 (see the docker source's ref). dockerNativeProvider.Diff reports ADD, DELETE or UPDATE for each changed input and never a replacement: " +
      "a new build context, name or platform is an update that builds again. It holds no data.",
    verified: true,
  },
  "docker:index/remoteImage:RemoteImage": {
    replaceOnChange: ["name", "pullTriggers", "triggers", "platform", "build"],
    source: "internal/provider/resource_docker_image.go",
    note:
      "TF resource docker_image. keepLocally and forceRemove (top-level) update in place. `build` itself is not ForceNew, but nearly all of its sub-fields in buildSchema are: " +
      "context, dockerfile, build_args, labels, target, platform, cache_from, no_cache, network_mode, secrets.*, ulimit.*, etc. " +
      "build.tag, build.remove, build.label and build.auth_config.* are not ForceNew.",
    verified: true,
  },
  "docker:index/container:Container": {
    replaceOnChange: [
      "name",
      "image",
      "command",
      "entrypoints",
      "envs",
      "labels",
      "mounts",
      "volumes",
      "ports",
      "networksAdvanced",
      "networkMode",
      "hostname",
      "domainname",
      "user",
      "workingDir",
      "dns",
      "dnsOpts",
      "dnsSearches",
      "hosts",
      "publishAllPorts",
      "privileged",
      "readOnly",
      "capabilities",
      "securityOpts",
      "runtime",
      "platform",
      "stopSignal",
      "stopTimeout",
      "ulimits",
      "devices",
      "deviceRequests",
      "gpus",
      "cpus",
      "shmSize",
      "logDriver",
      "logOpts",
      "pidMode",
      "usernsMode",
      "ipcMode",
      "groupAdds",
      "sysctls",
      "storageOpts",
      "uploads",
      "tty",
      "stdinOpen",
      "cgroupnsMode",
      "cgroupParent",
    ],
    source: "internal/provider/resource_docker_container.go",
    note:
      "Pulumi sets DeleteBeforeReplace: true for docker_container (pulumi-docker provider/resources.go), so a replacement stops and removes the old container before creating the new one. " +
      "These update in place through ContainerUpdate (resource_docker_container_funcs.go resourceDockerContainerUpdate): restart, maxRetryCount, memory, memoryReservation, memorySwap, cpuShares, cpuSet, deviceRead/WriteBps/Iops. " +
      "A mustRun change from false to true starts the container. " +
      "These are neither ForceNew nor handled by Update, so a change is recorded in state but has no effect on the running container: healthcheck, tmpfs, init, cpuPeriod, cpuQuota, rm, start, attach, logs, wait, waitTimeout, removeVolumes, destroyGraceSeconds, containerReadRefreshTimeoutMilliseconds. " +
      "Inside mounts, volumes, ports, networksAdvanced, uploads, devices, hosts, ulimits and capabilities, the nested fields are ForceNew too. " +
      "UNVERIFIED: `deviceCgroupRules` is in the 5.2.0 SDK but not in the source read (added upstream after v4.5.0, kreuzwerker issue #975), so it is left out of this list.",
    verified: true,
  },

  // ───────────────────────────── keycloak ─────────────────────────────
  "keycloak:authentication/execution:Execution": {
    replaceOnChange: ["realmId", "parentFlowAlias", "authenticator"],
    source: "provider/resource_keycloak_authentication_execution.go",
    note: "requirement and priority update in place.",
    verified: true,
  },
  "keycloak:authentication/executionConfig:ExecutionConfig": {
    replaceOnChange: ["realmId", "executionId", "alias"],
    source: "provider/resource_keycloak_authentication_execution_config.go",
    note: "config updates in place. alias is auto-named by Pulumi when omitted (pulumi-keycloak resources.go AutoName), so a replacement creates the new one under a fresh name.",
    verified: true,
  },
  "keycloak:authentication/flow:Flow": {
    replaceOnChange: ["realmId"],
    source: "provider/resource_keycloak_authentication_flow.go",
    note: "alias, providerId and description update in place.",
    verified: true,
  },
  "keycloak:authentication/subflow:Subflow": {
    replaceOnChange: ["realmId", "parentFlowAlias", "authenticator"],
    source: "provider/resource_keycloak_authentication_subflow.go",
    note: "alias, providerId, description, requirement and priority update in place.",
    verified: true,
  },
  "keycloak:index/group:Group": {
    replaceOnChange: ["realmId", "parentId", "organizationId"],
    source: "provider/resource_keycloak_group.go",
    note:
      "parent_id is ForceNew: moving a group under another parent recreates it, which gives it a new id and drops its memberships and role mappings. " +
      "name is NOT ForceNew: a rename is an in-place UpdateGroup. description and attributes also update in place.",
    verified: true,
  },
  "keycloak:index/groupMemberships:GroupMemberships": {
    replaceOnChange: ["realmId", "groupId"],
    source: "provider/resource_keycloak_group_memberships.go",
    note: "members updates in place.",
    verified: true,
  },
  "keycloak:index/groupRoles:GroupRoles": {
    replaceOnChange: ["realmId", "groupId"],
    source: "provider/resource_keycloak_group_roles.go",
    note: "roleIds and exhaustive update in place (UpdateContext = resourceKeycloakGroupRolesReconcile).",
    verified: true,
  },
  "keycloak:index/realm:Realm": {
    replaceOnChange: ["realm", "internalId"],
    source: "provider/resource_keycloak_realm.go",
    note:
      "Only realm and internal_id are ForceNew. Everything else, including nested blocks, updates in place; default_default_client_scopes and default_optional_client_scopes are explicitly ForceNew: false. " +
      "realm is auto-named by Pulumi when omitted.",
    verified: true,
  },
  "keycloak:index/role:Role": {
    replaceOnChange: ["realmId", "clientId", "import"],
    source: "provider/resource_keycloak_role.go",
    note: "name, description, compositeRoles and attributes update in place.",
    verified: true,
  },
  "keycloak:openid/client:Client": {
    replaceOnChange: ["realmId", "import"],
    source: "provider/resource_keycloak_openid_client.go",
    note:
      "clientId is NOT ForceNew; it updates in place. The CustomizeDiff only marks service_account_user_id and client_secret as computed-if-changed (outputs) and never forces a replacement. " +
      "clientId is auto-named by Pulumi when omitted.",
    verified: true,
  },
  "keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole": {
    replaceOnChange: ["serviceAccountUserId", "realmId", "clientId", "role"],
    everyInputReplaces: true,
    source: "provider/resource_keycloak_openid_client_service_account_role.go",
    note: "The resource has no UpdateContext, and all four inputs are ForceNew.",
    verified: true,
  },
  "keycloak:index/user:User": {
    replaceOnChange: ["realmId", "username", "import"],
    source: "provider/resource_keycloak_user.go",
    note: "email, emailVerified, firstName, lastName, attributes, requiredActions, federatedIdentities, initialPassword and enabled update in place. None of their nested fields are ForceNew.",
    verified: true,
  },
  "keycloak:openid/clientScope:ClientScope": {
    replaceOnChange: ["realmId"],
    source: "provider/resource_keycloak_openid_client_scope.go",
    note: "name and every other input update in place.",
    verified: true,
  },
  "keycloak:index/realmEvents:RealmEvents": {
    replaceOnChange: ["realmId"],
    source: "provider/resource_keycloak_realm_events.go",
    note: "Event types, expiration and admin events update in place.",
    verified: true,
  },
  "keycloak:index/requiredAction:RequiredAction": {
    replaceOnChange: [],
    source: "provider/resource_keycloak_required_action.go",
    note: "realm_id and alias are Required but not ForceNew: every field updates in place.",
    verified: true,
  },
  "keycloak:index/defaultRoles:DefaultRoles": {
    replaceOnChange: ["realmId"],
    source: "provider/resource_keycloak_default_roles.go",
    note: "The role list updates in place (the realm's default-roles composite).",
    verified: true,
  },
  "keycloak:authentication/bindings:Bindings": {
    replaceOnChange: ["realmId"],
    source: "provider/resource_keycloak_authentication_bindings.go",
    note: "The bound flow aliases update in place.",
    verified: true,
  },
  "keycloak:openid/clientDefaultScopes:ClientDefaultScopes": {
    replaceOnChange: ["realmId", "clientId"],
    source: "provider/resource_keycloak_openid_client_default_scopes.go",
    note: "The scope list updates in place.",
    verified: true,
  },
  "keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper": {
    replaceOnChange: ["name", "realmId", "clientId", "clientScopeId"],
    source: "provider/resource_keycloak_openid_group_membership_protocol_mapper.go",
    note: "claimName, fullPath and the addTo* flags update in place.",
    verified: true,
  },

  // ───────────────────────────── aws ─────────────────────────────
  "aws:s3/bucket:Bucket": {
    replaceOnChange: ["bucket", "bucketPrefix", "region"],
    source: "internal/service/s3/bucket.go",
    note:
      "NOT read at the pinned version, which could not be determined. bucket and bucket_prefix are `ForceNew: true` in internal/service/s3/bucket.go at indexed commits 4c72bcc7dc2f and 0070bcd12c95 (both v4-era). " +
      'The v6 s3_bucket.html.markdown doc says `bucket` is "(Optional, Forces new resource)". So changing `bucket` replaces the bucket; this has not changed in any version seen. ' +
      'region: website/docs/guides/enhanced-region-support.html.markdown (v6) says "Changing the value of region will force resource replacement." ' +
      "UNVERIFIED, left out of the list: bucketNamespace (new in TF AWS 6.x; expected to force replacement, but no source could be read) and objectLockEnabled (expected ForceNew, not confirmed at any v6 commit). " +
      "The deprecated inline blocks (versioning, website, lifecycleRules, ...) and tags update in place.",
    verified: false,
  },
  "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration": {
    replaceOnChange: ["bucket", "expectedBucketOwner", "region"],
    source: "internal/service/s3/bucket_website_configuration.go",
    note:
      'Read at indexed commit 013f1736b90439e5a19567a87d3e5cd11858c420 (a 2026 v6.x file; `@Testing(preIdentityVersion="v6.9.0")`), which may not be the exact pinned version. There, bucket and expected_bucket_owner are ForceNew: true. ' +
      "region comes from the v6 enhanced-region guide (not read in source). indexDocument, errorDocument, redirectAllRequestsTo, routingRuleDetails and routingRules update in place via PutBucketWebsite.",
    verified: false,
  },

  // ───────────────────────────── command ─────────────────────────────
  "command:remote:Command": {
    replaceOnChange: ["triggers"],
    source: "provider/pkg/provider/common/inputs.go",
    note:
      'Only `Triggers` carries the tag provider:"replaceOnChanges" (common/inputs.go; the CommandInputs in remote/command.go embed common.ResourceInputs). The generated schema has replaceOnChanges only on `triggers`. ' +
      'The installed SDK (remote/command.js) merges `replaceOnChanges: ["triggers[*]"]` into the resource options, so a change to any trigger element replaces the resource: `delete` runs, then `create`. ' +
      "The resource has no custom Diff (remote/commandController.go), so a change to any other input (create, update, delete, connection, environment, stdin, logging, addPreviousOutputInEnv) is an in-place UPDATE. " +
      "An update runs `update` if it is set, otherwise `create` again; `delete` is not run. A changed `connection` therefore re-runs the command on the new host and does not clean up the old one.",
    verified: true,
  },

  "command:local:Command": {
    replaceOnChange: ["triggers"],
    source: "provider/pkg/provider/common/inputs.go",
    note:
      "As the remote Command: local/command.go embeds common.ResourceInputs, whose `Triggers` alone carries replaceOnChanges; the installed SDK (local/command.js) merges " +
      '`replaceOnChanges: ["triggers[*]"]`. Any other input change is an in-place update that runs `update`, or `create` again.',
    verified: true,
  },

  // ───────────────────────────── random ─────────────────────────────
  "random:index/randomId:RandomId": {
    replaceOnChange: ["keepers", "byteLength", "prefix"],
    source: "internal/provider/resource_id.go",
    note:
      "Every input replaces the resource. byte_length and prefix have RequiresReplace(). keepers has mapplanmodifiers.RequiresReplaceIfValuesNotNull(), so changes that only add or remove null-valued keys do not replace. " +
      "An Update exists but only copies the plan to state; `everyInputReplaces` is left unset because of it.",
    verified: true,
  },
  "random:index/randomPassword:RandomPassword": {
    replaceOnChange: [
      "keepers",
      "length",
      "special",
      "upper",
      "lower",
      "number",
      "numeric",
      "minNumeric",
      "minUpper",
      "minLower",
      "minSpecial",
      "overrideSpecial",
    ],
    source: "internal/provider/resource_password.go",
    note:
      "Every input replaces the resource, which generates a new password (passwordSchemaV3). " +
      "length, special, upper, lower, number, numeric and min_* have RequiresReplace(). " +
      'override_special uses RequiresReplaceIf(RequiresReplaceUnlessEmptyStringToNull), so going from "" to unset does not replace. ' +
      "keepers uses RequiresReplaceIfValuesNotNull. An Update exists but only copies the plan to state.",
    verified: true,
  },
};
