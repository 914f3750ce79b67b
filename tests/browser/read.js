// What a browser viewer does first: the root and image metadata, then pixels, read with zarrita.
import * as zarr from "zarrita";

function plain(chunk) {
  return { shape: chunk.shape, stride: chunk.stride, data: Array.from(chunk.data) };
}

export async function read(plan) {
  const root = zarr.root(new zarr.FetchStore(plan.store));
  const top = await zarr.open.v3(root, { kind: "group" });
  const ome = await zarr.open.v3(root.resolve("OME"), { kind: "group" });
  const image = await zarr.open.v3(root.resolve(plan.image), { kind: "group" });
  const array = await zarr.open.v3(root.resolve(plan.array), { kind: "array" });
  const region = plan.region.map((axis) => (Array.isArray(axis) ? zarr.slice(axis[0], axis[1]) : axis));
  return {
    ok: true,
    root: top.attrs,
    ome: ome.attrs,
    image: image.attrs,
    array: { shape: array.shape, chunks: array.chunks, dtype: array.dtype },
    chunk: plain(await array.getChunk(plan.chunk)),
    region: plain(await zarr.get(array, region)),
  };
}
