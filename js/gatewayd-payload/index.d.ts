export declare const VERSION: 2;
export declare class FormatError extends Error {}
export type Value = number | bigint | string | boolean | null;
export interface Reading { alias: number; ts: number; value: Value; type: 'int' | 'float' | 'string' | 'bool' | 'nil'; quality: number; }
export interface PointInfo { alias: number; name: string; unit: string; type: string; step: [number, number] | null; resolution: number | null; device: string; }
export declare function decodeData(bytes: Uint8Array): { seq: number; b: number; t: number; readings: Reading[] };
export declare function decodeBirth(bytes: Uint8Array): { gw: string; b: number; sw: string; up: number; n: number | null; points: Map<number, PointInfo> };
export declare function decodeEvents(bytes: Uint8Array): { seq: number; ev: Array<Record<string, unknown>> };
export declare function decodeState(bytes: Uint8Array): 'online' | 'offline';
export declare function canonicalPoints(points: PointInfo[]): string;
export declare function birthId(points: PointInfo[]): number;
export declare function qualityName(code: number): string;
export declare function messageKind(topic: string): 'state' | 'birth' | 'data' | 'event' | null;
export declare class SeenSeqs { add(seq: number): boolean; missing(): Array<[number, number]>; readonly highest: number | null; }
export declare class Consumer { handle(topic: string, payload: Uint8Array): Array<Record<string, unknown>>; }
