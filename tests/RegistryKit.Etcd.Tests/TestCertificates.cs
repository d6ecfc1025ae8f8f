using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RegistryKit.Etcd.Tests;

/// <summary>A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, as PEM files in a temp folder.</summary>
internal sealed class TestCertificates : IDisposable
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private readonly string _directory;

    public TestCertificates()
    {
        _directory = Path.Combine(Path.GetTempPath(), "registrykit-etcd-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        DateTimeOffset now = DateTimeOffset.UtcNow;

        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=RegistryKit Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        CaCertificatePath = Write("ca.pem", ca.ExportCertificatePem());
        // etcd's JSON gateway dials etcd's own gRPC server with the server certificate, and with --client-cert-auth
        // that server checks it as a client certificate: it needs both usages.
        (ServerCertificatePath, ServerKeyPath) = Issue(ca, "server", now, ServerAuth, ClientAuth);
        (ClientCertificatePath, ClientKeyPath) = Issue(ca, "client", now, ClientAuth);
    }

    public string CaCertificatePath { get; }

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public string ClientCertificatePath { get; }

    public string ClientKeyPath { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (string Certificate, string Key) Issue(X509Certificate2 ca, string name, DateTimeOffset now, params string[] usages)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([.. usages.Select(u => new Oid(u))], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.Create(ca, now.AddDays(-1), now.AddHours(23), RandomNumberGenerator.GetBytes(8));
        return (Write(name + ".pem", certificate.ExportCertificatePem()), Write(name + "-key.pem", key.ExportPkcs8PrivateKeyPem()));
    }

    private string Write(string file, string pem)
    {
        string path = Path.Combine(_directory, file);
        File.WriteAllText(path, pem);
        return path;
    }
}
