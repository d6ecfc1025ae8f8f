using System.Net;
using RegistryKit.Transport;

namespace RegistryKit.Etcd.Tests;

public class EtcdErrorsTests
{
    [TestCase(HttpStatusCode.ServiceUnavailable, """{"error":"etcdserver: leader changed","message":"etcdserver: leader changed","code":14}""", true)]
    [TestCase(HttpStatusCode.GatewayTimeout, """{"error":"context deadline exceeded","message":"context deadline exceeded","code":4}""", true)]
    [TestCase(HttpStatusCode.RequestTimeout, """{"error":"grpc: the client connection is closing","message":"grpc: the client connection is closing","code":1}""", true)]
    [TestCase(HttpStatusCode.BadRequest, """{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}""", false)]
    [TestCase(HttpStatusCode.Forbidden, """{"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7}""", false)]
    [TestCase(HttpStatusCode.BadGateway, "<html>bad gateway</html>", true)]
    [TestCase(HttpStatusCode.NotFound, "404 page not found", false)]
    public void ToException_MapsTheCodeToTransientOrNot(HttpStatusCode status, string body, bool transient)
    {
        RegistryTransportException failure = EtcdErrors.ToException("kv/put", status, body);

        Assert.That(failure.IsTransient, Is.EqualTo(transient));
        Assert.That(failure, Is.Not.InstanceOf<RegistrySessionLostException>());
        Assert.That(failure.Message, Does.Contain("kv/put").And.Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void ToException_LeaseNotFound_IsSessionLost()
    {
        RegistryTransportException failure = EtcdErrors.ToException(
            "kv/put",
            HttpStatusCode.NotFound,
            """{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}""");

        Assert.That(failure, Is.InstanceOf<RegistrySessionLostException>());
        Assert.That(failure.Message, Does.Contain("requested lease not found"));
    }

    [Test]
    public void ToException_UnauthenticatedAfterReauthentication_IsPermanentAndSaysWhatToCheck()
    {
        RegistryTransportException failure = EtcdErrors.ToException(
            "kv/range",
            HttpStatusCode.Unauthorized,
            """{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}""",
            afterReauthentication: true);

        Assert.That(failure.IsTransient, Is.False);
        Assert.That(failure.Message, Does.Contain("Unauthenticated").And.Contain("user and password"));
    }

    [Test]
    public void ToException_NonJsonBody_QuotesTheRawTextCutAndWithoutControlCharacters()
    {
        string body = "line one\nline two " + new string('x', 1000);

        RegistryTransportException failure = EtcdErrors.ToException("watch", HttpStatusCode.MethodNotAllowed, body);

        Assert.That(failure.Message, Does.Contain("line one line two"));
        Assert.That(failure.Message, Does.Not.Contain("\n"));
        Assert.That(failure.Message.Length, Is.LessThan(400));
    }

    [Test]
    public void FromStreamError_ShutdownLine_IsTransient()
    {
        RegistryTransportException failure = EtcdErrors.FromStreamError("watch", new Wire.StreamError { GrpcCode = 14, HttpCode = 503, Message = "transport is closing" });

        Assert.That(failure.IsTransient, Is.True);
        Assert.That(failure.Message, Does.Contain("Unavailable").And.Contain("transport is closing"));
    }
}
