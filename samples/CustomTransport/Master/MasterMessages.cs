using RegistryKit.Reporting;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>Asks for a session with a TTL in milliseconds.</summary>
internal sealed record SessionRequest(long TtlMs);

/// <summary>A session the master granted: its id and the TTL it chose, in milliseconds.</summary>
internal sealed record SessionGrant(string Id, long TtlMs);

/// <summary>Stores <see cref="Value"/> under <see cref="Key"/>, attached to the session.</summary>
internal sealed record PutRequest(string Session, string Key, string Value);

/// <summary>Everything under a prefix at one revision; one line of a watch stream.</summary>
internal sealed record SnapshotMessage(long Revision, IReadOnlyList<string> Entries);

/// <summary>A refusal: a code from <see cref="MasterProtocol"/> and a sentence.</summary>
internal sealed record ErrorMessage(string Code, string Message);

/// <summary>The answer to a worker's registration or heartbeat.</summary>
internal sealed record StatusMessage(string Status);

/// <summary>A worker's heartbeat, with its newest health report when it has one the master has not seen.</summary>
internal sealed record HeartbeatMessage(HealthReport? Report);
