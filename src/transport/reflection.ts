// Server reflection (grpc.reflection.v1 and v1alpha) from protobuf-es file
// descriptors: @grpc/reflection takes a proto-loader package definition, of
// which it only reads each entry's serialized FileDescriptorProtos. We hand it
// the embedded descriptors of the generated code (the service's file and
// everything it imports), so reflection always describes exactly what is served.
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** The files and their imports, each once, imports first. */
export function withDependencies(files: readonly DescFile[]): DescFile[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dependency of file.dependencies) visit(dependency);
    ordered.push(file);
  };
  files.forEach(visit);
  return ordered;
}

/** Serialized FileDescriptorProtos of the files and their imports. */
export function fileDescriptorProtos(files: readonly DescFile[]): Buffer[] {
  return withDependencies(files).map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
}

/**
 * A reflection service listing `services`. `extraFiles` are described too
 * (e.g. the error details, which no method references).
 */
export function createReflectionService(services: readonly DescService[], extraFiles: readonly DescFile[] = []): ReflectionService {
  const protos = fileDescriptorProtos([...services.map((s) => s.file), ...extraFiles]);
  const definition: Record<string, unknown> = {};
  for (const service of services) {
    definition[service.typeName] = { format: "Protocol Buffer 3 DescriptorProto", type: {}, fileDescriptorProtos: protos };
  }
  return new ReflectionService(definition as PackageDefinition, { services: services.map((s) => s.typeName) });
}
