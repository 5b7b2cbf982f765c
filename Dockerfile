# The standalone-cinder image: the shaded jar on a JRE, as a non-root user. Build the jar first:
#   mvn -B -DskipTests package && docker build -t standalone-cinder:dev .
# (An image tar can also be built without Docker: mvn -B -Pimage -pl cmd -am package -DskipTests, see docs/install.md.)
FROM eclipse-temurin:17-jre

# A numeric user, so runAsNonRoot can verify it without a passwd entry.
USER 65532:65532
WORKDIR /app
COPY --chown=0:0 cmd/target/standalone-cinder.jar /app/standalone-cinder.jar

EXPOSE 8080
# Small-footprint JVM (docs/install.md, "Image"): serial GC and C1 only for an I/O-bound controller, heap as a share
# of the container limit, given back when it is free and a small young generation (the informer caches are the
# heap), freed malloc memory returned, two malloc arenas, exit on OOM so Kubernetes restarts the pod, no hsperfdata
# file in /tmp.
ENV MALLOC_ARENA_MAX=2
# The Helm chart passes the same flags as its `command`, so they can be tuned without rebuilding.
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-XX:MaxRAMPercentage=75", "-XX:MinHeapFreeRatio=5", \
            "-XX:MaxHeapFreeRatio=10", "-XX:MaxNewSize=16m", "-XX:TrimNativeHeapInterval=5000", \
            "-XX:+ExitOnOutOfMemoryError", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", \
            "-jar", "/app/standalone-cinder.jar"]
CMD ["run"]
