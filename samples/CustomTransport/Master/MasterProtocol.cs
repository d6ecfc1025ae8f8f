namespace RegistryKit.Samples.CustomTransport.Master;

/// <summary>
/// The master's HTTP protocol, shared by the server, the registry transport and the worker's client. Every body is
/// JSON; an error is <see cref="ErrorMessage"/> with one of the codes below.
/// </summary>
/// <remarks>
/// <code>
/// POST   /v1/sessions                  {"ttlMs":5000}                      → {"id":"…","ttlMs":5000}
/// POST   /v1/sessions/{id}/keepalive                                       → 204, or 404 session-unknown
/// DELETE /v1/sessions/{id}                                                 → 204 (also when unknown)
/// PUT    /v1/entries                   {"session":"…","key":"…","value":"…"} → 204, or 404 session-unknown
/// DELETE /v1/entries?key=…&amp;session=…                                 → 204 (also when absent or on another session)
/// GET    /v1/entries?prefix=…                                              → {"revision":7,"entries":["…"]}
/// GET    /v1/watch?prefix=…            NDJSON: one snapshot per line, the first at once, then one after each change
/// POST   /v1/workers/{id}/register                                         → {"status":"registered"|"duplicate"|"standby"}
/// POST   /v1/workers/{id}/heartbeat    {"report":{…}|null}                 → {"status":"ok"|"reconnect"}
/// GET    /v1/workers                                                       → [{"id":"…","heartbeats":3,…}]
/// </code>
/// </remarks>
internal static class MasterProtocol
{
    public const string SessionUnknown = "session-unknown";
    public const string TooLarge = "too-large";
    public const string Full = "full";
    public const string BadRequest = "bad-request";

    public const string Registered = "registered";
    public const string Duplicate = "duplicate";
    public const string Standby = "standby";
    public const string Ok = "ok";
    public const string Reconnect = "reconnect";

    public const string NdjsonContentType = "application/x-ndjson";
}
