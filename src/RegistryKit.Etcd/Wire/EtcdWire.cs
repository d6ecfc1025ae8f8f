using System.Text.Json.Serialization;

// The JSON gateway's shapes, field names exactly as in etcd's protos (rpc.proto, kv.proto). Unknown fields are
// silently ignored by the gateway, so a misspelt name does not fail: it is simply not sent.
namespace RegistryKit.Etcd.Wire;

internal sealed class ResponseHeader
{
    [JsonPropertyName("revision")]
    public long Revision { get; set; }
}

internal sealed class KeyValue
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("create_revision")]
    public long CreateRevision { get; set; }

    [JsonPropertyName("mod_revision")]
    public long ModRevision { get; set; }

    [JsonPropertyName("lease")]
    public long Lease { get; set; }
}

internal sealed class RangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }
}

internal sealed class RangeResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("kvs")]
    public List<KeyValue>? Kvs { get; set; }

    [JsonPropertyName("more")]
    public bool More { get; set; }
}

internal sealed class PutRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("value")]
    public byte[]? Value { get; set; }

    [JsonPropertyName("lease")]
    public long? Lease { get; set; }
}

internal sealed class HeaderResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }
}

internal sealed class DeleteRangeRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }
}

internal sealed class Compare
{
    [JsonPropertyName("target")]
    public string? Target { get; set; }

    [JsonPropertyName("result")]
    public string? Result { get; set; }

    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    // Sent even when 0: the gateway drops zero values it receives as missing fields, but an explicit 0 is fine.
    [JsonPropertyName("create_revision")]
    public long? CreateRevision { get; set; }

    /// <summary>The lease the key must be attached to, with target <c>LEASE</c>.</summary>
    [JsonPropertyName("lease")]
    public long? Lease { get; set; }
}

internal sealed class RequestOp
{
    [JsonPropertyName("request_put")]
    public PutRequest? RequestPut { get; set; }

    [JsonPropertyName("request_range")]
    public RangeRequest? RequestRange { get; set; }

    [JsonPropertyName("request_delete_range")]
    public DeleteRangeRequest? RequestDeleteRange { get; set; }
}

internal sealed class TxnRequest
{
    [JsonPropertyName("compare")]
    public List<Compare>? Compare { get; set; }

    [JsonPropertyName("success")]
    public List<RequestOp>? Success { get; set; }

    [JsonPropertyName("failure")]
    public List<RequestOp>? Failure { get; set; }
}

internal sealed class ResponseOp
{
    [JsonPropertyName("response_range")]
    public RangeResponse? ResponseRange { get; set; }
}

internal sealed class TxnResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("succeeded")]
    public bool Succeeded { get; set; }

    [JsonPropertyName("responses")]
    public List<ResponseOp>? Responses { get; set; }
}

internal sealed class LeaseGrantRequest
{
    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }
}

internal sealed class LeaseResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("ID")]
    public long Id { get; set; }

    [JsonPropertyName("TTL")]
    public long Ttl { get; set; }
}

internal sealed class LeaseIdRequest
{
    [JsonPropertyName("ID")]
    public long Id { get; set; }
}

internal sealed class LeaseKeepAliveLine
{
    [JsonPropertyName("result")]
    public LeaseResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public StreamError? Error { get; set; }
}

internal sealed class AuthenticateRequest
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("password")]
    public string? Password { get; set; }
}

internal sealed class AuthenticateResponse
{
    [JsonPropertyName("token")]
    public string? Token { get; set; }
}

internal sealed class WatchCreateRequest
{
    [JsonPropertyName("key")]
    public byte[]? Key { get; set; }

    [JsonPropertyName("range_end")]
    public byte[]? RangeEnd { get; set; }

    [JsonPropertyName("start_revision")]
    public long StartRevision { get; set; }
}

internal sealed class WatchRequest
{
    [JsonPropertyName("create_request")]
    public WatchCreateRequest? CreateRequest { get; set; }
}

internal sealed class WatchEvent
{
    // Absent for PUT (the zero value of the enum).
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("kv")]
    public KeyValue? Kv { get; set; }
}

internal sealed class WatchResponse
{
    [JsonPropertyName("header")]
    public ResponseHeader? Header { get; set; }

    [JsonPropertyName("created")]
    public bool Created { get; set; }

    [JsonPropertyName("canceled")]
    public bool Canceled { get; set; }

    [JsonPropertyName("compact_revision")]
    public long CompactRevision { get; set; }

    [JsonPropertyName("cancel_reason")]
    public string? CancelReason { get; set; }

    [JsonPropertyName("events")]
    public List<WatchEvent>? Events { get; set; }
}

internal sealed class WatchLine
{
    [JsonPropertyName("result")]
    public WatchResponse? Result { get; set; }

    [JsonPropertyName("error")]
    public StreamError? Error { get; set; }
}

/// <summary>An error line inside a streamed HTTP 200 answer.</summary>
internal sealed class StreamError
{
    [JsonPropertyName("grpc_code")]
    public int GrpcCode { get; set; }

    [JsonPropertyName("http_code")]
    public int HttpCode { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}

/// <summary>The body of a failed unary call.</summary>
internal sealed class ErrorBody
{
    [JsonPropertyName("error")]
    public string? Error { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }

    [JsonPropertyName("code")]
    public int Code { get; set; }
}

// 64-bit integers travel as strings ("revision":"5"); lease ids exceed 2^53.
[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RangeRequest))]
[JsonSerializable(typeof(RangeResponse))]
[JsonSerializable(typeof(PutRequest))]
[JsonSerializable(typeof(HeaderResponse))]
[JsonSerializable(typeof(DeleteRangeRequest))]
[JsonSerializable(typeof(TxnRequest))]
[JsonSerializable(typeof(TxnResponse))]
[JsonSerializable(typeof(LeaseGrantRequest))]
[JsonSerializable(typeof(LeaseResponse))]
[JsonSerializable(typeof(LeaseIdRequest))]
[JsonSerializable(typeof(LeaseKeepAliveLine))]
[JsonSerializable(typeof(AuthenticateRequest))]
[JsonSerializable(typeof(AuthenticateResponse))]
[JsonSerializable(typeof(WatchRequest))]
[JsonSerializable(typeof(WatchLine))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class EtcdJsonContext : JsonSerializerContext
{
}
