using RegistryKit.Reporting;

namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>What a master knows of one worker.</summary>
/// <param name="Id">The worker's id.</param>
/// <param name="Heartbeats">Heartbeats received since it registered.</param>
/// <param name="Reports">Health reports accepted (stale ones are not counted).</param>
/// <param name="SecondsSinceHeartbeat">Seconds since its last heartbeat or registration, on the master's clock.</param>
/// <param name="Report">Its newest health report, if it sent one.</param>
internal sealed record WorkerView(string Id, long Heartbeats, long Reports, double SecondsSinceHeartbeat, HealthReport? Report);
