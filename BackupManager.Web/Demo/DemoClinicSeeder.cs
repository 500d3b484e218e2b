using System.Buffers.Binary;
using System.IO.Compression;
using BackupManager.Core;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BackupManager.Web.Demo;

/// <summary>
/// Fills an empty database with a small demo clinic (patients, appointments, treatments) and the first backed-up
/// folder with sample X-ray images, so a newcomer has something meaningful to back up and restore. It refuses any
/// database that already has tables: it never writes into real data.
/// </summary>
public sealed class DemoClinicSeeder(IOptions<BackupOptions> options, IConfiguration configuration,
    Identity.UserAccountService accounts)
{
    public const string DemoAdministrator = "admin@clinic.local";

    /// <summary>Seeds the clinic (empty database only), applies migrations and creates a demo administrator if there is
    /// no user.</summary>
    public async Task<IReadOnlyList<string>> SeedAsync(CancellationToken cancellationToken)
    {
        var messages = new List<string> { await SeedClinicAsync(cancellationToken) };
        await accounts.MigrateAsync(cancellationToken);
        if (!await accounts.AnyUsersAsync())
        {
            // Random and printed once: no default password exists anywhere.
            var password = System.Security.Cryptography.RandomNumberGenerator.GetString(
                "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);
            await accounts.CreateAsync(DemoAdministrator, password, administrator: true);
            messages.Add(
                $"Demo administrator created. Sign in as {DemoAdministrator} with password {password} (shown only "
                + $"this once).");
        }
        return messages;
    }

    private async Task<string> SeedClinicAsync(CancellationToken cancellationToken)
    {
        var connectionString = Configuration.BackupConfiguration.DatabaseConnectionString(configuration)
            ?? throw new BackupException(BackupErrorKind.InvalidInput,
                "No database is configured (ConnectionStrings__Default).");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var count = new NpgsqlCommand(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", connection))
        {
            if ((long)(await count.ExecuteScalarAsync(cancellationToken))! > 0)
                return "The database already has tables; the demo clinic was not added (it is only ever seeded into "
                    + "an empty database).";
        }
        await using (var seed = new NpgsqlCommand(SeedSql, connection))
            await seed.ExecuteNonQueryAsync(cancellationToken);

        var images = 0;
        if (options.Value.Paths.FirstOrDefault() is { } folder)
        {
            var xrays = Path.Combine(folder, "xrays");
            Directory.CreateDirectory(xrays);
            for (var patient = 1; patient <= 12; patient++)
            {
                await File.WriteAllBytesAsync(Path.Combine(xrays, $"patient-{patient:D4}-panoramic.png"),
                    SampleImage(patient), cancellationToken);
                images++;
            }
            var documents = Path.Combine(folder, "documents");
            Directory.CreateDirectory(documents);
            await File.WriteAllTextAsync(Path.Combine(documents, "consent-template.txt"),
                "I consent to the dental treatment described to me, its risks and alternatives.\n", cancellationToken);
        }
        return $"Demo clinic added: 2,000 patients, 6,000 appointments, 4,000 treatments and {images} sample X-ray "
            + $"images.";
    }

    private const string SeedSql = """
        CREATE TABLE patients (
            id serial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, born date NOT NULL,
            phone text, email text, notes text, created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE appointments (
            id serial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), starts_at timestamptz NOT NULL,
            duration_minutes int NOT NULL, dentist text NOT NULL, reason text NOT NULL);
        CREATE TABLE treatments (
            id serial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), tooth smallint,
                procedure text NOT NULL,
            price numeric(10,2) NOT NULL, performed_on date NOT NULL);
        INSERT INTO patients (first_name, last_name, born, phone, email, notes)
        SELECT (ARRAY['Anna','Ben','Chloé','David','Emma','Farid','Greta','Hugo','Ines','Jonas'])[1 + g % 10],
               (ARRAY['Martin','Bernard','Dubois','Thomas','Robert','Richard','Petit','Durand','Leroy','Moreau'])[1
                   + (g / 10) % 10],
               date '1940-01-01' + (g * 7919) % 29000, '+33 6 ' || lpad((g * 7717 % 100000000)::text, 8, '0'),
               'patient' || g || '@example.org', CASE WHEN g % 7 = 0 THEN 'Allergic to penicillin' END
        FROM generate_series(1, 2000) g;
        INSERT INTO appointments (patient_id, starts_at, duration_minutes, dentist, reason)
        SELECT 1 + g % 2000, timestamptz '2026-01-05 08:00+00' + (g % 250) * interval '1 day'
            + (g % 9) * interval '1 hour',
               (ARRAY[15, 30, 45, 60])[1 + g % 4], (ARRAY['Dr. Lambert','Dr. Rousseau','Dr. Nguyen'])[1 + g % 3],
               (ARRAY['Check-up','Cleaning','Filling','Crown fitting','X-ray','Extraction'])[1 + g % 6]
        FROM generate_series(1, 6000) g;
        INSERT INTO treatments (patient_id, tooth, procedure, price, performed_on)
        SELECT 1 + (g * 13) % 2000, 11 + g % 38,
            (ARRAY['Composite filling','Scaling','Root canal','Crown','Extraction'])[1 + g % 5],
               (ARRAY[60, 45, 380, 650, 90])[1 + g % 5], date '2025-01-01' + g % 600
        FROM generate_series(1, 4000) g;
        """;

    /// <summary>A 256×256 grayscale PNG that looks vaguely like a panoramic X-ray, different for each
    /// patient.</summary>
    private static byte[] SampleImage(int seed)
    {
        const int size = 256;
        var raw = new byte[size * (size + 1)];
        var random = new Random(seed);
        for (var y = 0; y < size; y++)
        {
            raw[y * (size + 1)] = 0; // filter: none
            for (var x = 0; x < size; x++)
            {
                var arch = Math.Abs(y - (96 + (x - 128) * (x - 128) / 200.0)) < 28 ? 170 : 40;
                raw[y * (size + 1) + 1 + x] = (byte)Math.Clamp(arch + random.Next(-30, 30), 0, 255);
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, size);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        header[8] = 8; // bit depth; color type 0 = grayscale
        WriteChunk(png, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw);
            WriteChunk(png, "IDAT", compressed.ToArray());
        }
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        stream.Write(number);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32([.. typeBytes, .. data]));
        stream.Write(number);
    }

    // The CRC-32 that PNG chunks carry (the zlib polynomial); small enough not to need a package.
    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
